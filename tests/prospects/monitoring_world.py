"""A small world for the link-monitoring tests: our site, a blog that links to it, a fake clock.

Both sites are served by one loopback server; a StaticResolver maps their names to 127.0.0.1
and the client is allowed to reach exactly that port, so nothing leaves the machine. The
clock only moves when a test (or the pacer's ``sleep``) moves it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from linkcrm.lib.safehttp import SafeClient, SafeHttpConfig, StaticResolver
from prospects.choices import Stage
from prospects.models import AcquiredLink, Project, Prospect
from prospects.services.monitoring import SweepReport, links_sweep
from prospects.services.pipeline import prospect_assign, prospect_move_stage
from prospects.services.projects import project_add_target_page, project_set_site
from tests.lib.loopback import LoopbackServer
from tests.prospects.pipeline_helpers import make_project, make_prospects

OURS = "northwind-gear.com"
BLOG = "trail-notes.com"
OTHER = "summit-journal.com"
HOSTS = {OURS: ["127.0.0.1"], BLOG: ["127.0.0.1"], OTHER: ["127.0.0.1"], "intranet-blog.com": ["10.0.0.8"]}


@dataclass
class FakeClock:
    """Now, moved by hand or by ``sleep`` (which also records how long it was asked to wait)."""

    # Starts at the real now: moving a prospect to Link Acquired makes its link due at once.
    now: datetime = field(default_factory=timezone.now)
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def make_client(server: LoopbackServer, **config: float) -> SafeClient:
    allow = [f"{host}:{server.port}" for host in HOSTS]
    return SafeClient(
        SafeHttpConfig(user_agent="LinkCRM/1.0 (tests)", **config), allow=allow, resolver=StaticResolver(HOSTS)
    )


def page_with(*links: str) -> str:
    return "<!doctype html><html><head><title>Best gear</title></head><body><p>Our picks:</p>" + "".join(
        links
    ) + "</body></html>"  # fmt: skip


@dataclass
class World:
    server: LoopbackServer
    project: Project
    prospect: Prospect
    clock: FakeClock
    target: str

    @property
    def page_url(self) -> str:
        return self.server.url("/post", host=BLOG)

    def link(self) -> AcquiredLink:
        return AcquiredLink.objects.get(prospect=self.prospect)

    def acquire(self, domain: str, page_url: str, *, by: AbstractBaseUser) -> Prospect:
        """Another prospect of this project moved to Link Acquired; its link is due from that move,
        at the real now, so the clock catches up with it."""
        prospect = acquire(self.project, domain, page_url, by=by)
        self.clock.now = max(self.clock.now, timezone.now())
        return prospect

    def serve(self, html: str, **kwargs: object) -> None:
        self.server.page("/post", html, **kwargs)

    def sweep(self, **config: float) -> SweepReport:
        """One sweep with a fresh client (robots.txt is read again), like the scheduled task."""
        with make_client(self.server, **config) as client:
            return links_sweep(client=client, clock=self.clock, sleep=self.clock.sleep)

    def next_day(self) -> SweepReport:
        self.clock.advance(days=1)
        return self.sweep()


def acquire(
    project: Project, domain: str, page_url: str, *, by: AbstractBaseUser, assignee: AbstractBaseUser | None = None
) -> Prospect:
    prospect = make_prospects(project, domain, by=by, stage=Stage.REPLY_RECEIVED)[0]
    prospect_move_stage(prospect_id=prospect.pk, to_stage=Stage.LINK_ACQUIRED, actor=by, linking_page_url=page_url)
    if assignee is not None:
        prospect_assign(prospect=prospect, assignee=assignee)
    prospect.refresh_from_db()
    return prospect


def build_world(server: LoopbackServer, user: AbstractBaseUser, name: str = "Gear") -> World:
    project = make_project(name, user)
    project_set_site(project=project, domain_or_url=OURS)
    target = server.url("/product", host=OURS)
    project_add_target_page(project=project, url=target)
    server.page("/product", "<html><body>Our tent</body></html>")
    prospect = acquire(project, BLOG, server.url("/post", host=BLOG), by=user, assignee=user)
    return World(server=server, project=project, prospect=prospect, clock=FakeClock(), target=target)
