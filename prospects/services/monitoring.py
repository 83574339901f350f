"""Acquired-link monitoring: the writes. Fetching and parsing live in ``prospects.linkcheck``.

- ``prospects.services.acquired.acquired_links_sync`` (run by the pipeline at every move to
  Link Acquired, and by each sweep as a safety net) gives the prospect its ``AcquiredLink``.
- ``links_sweep`` is the scheduled job: one sweep at a time (a PostgreSQL advisory lock),
  claims a batch of due links (``FOR UPDATE SKIP LOCKED``, at most LINKCRM_LINKCHECK_PER_HOST
  per host), resolves each project's target pages once, and checks the pages host by host in
  turn with at least LINKCRM_LINKCHECK_HOST_DELAY_SECONDS between two requests to one host
  (counting the checks of earlier sweeps, read from the history).
- ``acquired_link_record`` applies one check: a LinkCheck row and a guarded status change
  (``UPDATE … WHERE status = <old> AND failures = <old>``). Lost/Broken becomes the status
  only after LINKCRM_LINKCHECK_CONFIRM_FAILURES consecutive failed checks; Undefined never
  counts as a failure; Changed means the live link's anchor or rel differ from the last live
  check. A confirmed loss is logged, dates the link lost in the site's profile and emails the
  assignee (after commit); a live link is recorded there with the "verified" provider bit.
- ``acquired_link_reclaim`` (a person) moves a prospect whose loss is confirmed back to To
  Contact through ``prospect_move_stage``; the link and its history stay.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import zip_longest

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django_q.tasks import async_task

from audit.verified import VerifiedLink, backlink_mark_verified_lost, backlink_record_verified
from linkcrm.lib.domains import DomainError
from linkcrm.lib.safehttp import SafeClient
from prospects.choices import LinkStatus, Stage
from prospects.linkcheck import (
    LIVE_STATUSES,
    LOSS_STATUSES,
    CheckResult,
    TargetSet,
    check_page,
    resolve_targets,
)
from prospects.models import AcquiredLink, LinkCheck, StageChange
from prospects.selectors import monitoring as selectors
from prospects.services.acquired import acquired_links_sync, page_host
from prospects.services.pipeline import prospect_move_stage

logger = logging.getLogger(__name__)

CHECK_TASK = "prospects.tasks.acquired_link_check_task"
SWEEP_AUTOMATION = "linkcheck.sweep"
# Claimed links are hidden from other sweeps this long; a crashed sweep's links come back after it.
CLAIM_LEASE = timedelta(minutes=30)
_SWEEP_LOCK = 0x4C4E4B43  # "LNKC": pg advisory lock key of the sweep
_RECORD_ATTEMPTS = 3

Clock = Callable[[], datetime]
Sleep = Callable[[float], None]


class MonitoringError(ValueError):
    """The request cannot be done (no confirmed loss to reclaim, not a monitored link …)."""


def make_client() -> SafeClient:
    """The HTTP client of a sweep (one per sweep: robots.txt is read once per site)."""
    return SafeClient()


# --- applying one check ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    """What one check does to a link: its new status, failure count and live-link facts."""

    status: str
    failures: int
    anchor: str
    rel: str
    target_url: str
    outcome: str

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES


def next_state(link: AcquiredLink, result: CheckResult, *, confirm: int) -> Transition:
    """The link's state after ``result`` (pure: see the module docstring for the rules)."""
    keep = {"anchor": link.anchor, "rel": link.rel, "target_url": link.target_url}
    if result.outcome == LinkStatus.ACTIVE and result.link is not None:
        anchor, rel = result.link.anchor, " ".join(result.link.flags)
        seen_before = bool(link.target_url)
        changed = seen_before and (anchor != link.anchor or rel != link.rel)
        outcome = LinkStatus.CHANGED if changed else LinkStatus.ACTIVE
        return Transition(status=outcome, failures=0, anchor=anchor, rel=rel, target_url=result.link.href,
                          outcome=outcome)  # fmt: skip
    if result.outcome in LOSS_STATUSES:
        failures = link.failures + 1
        status = result.outcome if failures >= confirm else link.status
        return Transition(status=status, failures=failures, outcome=result.outcome, **keep)
    # Undefined: no evidence either way. Only a link we never saw decided shows it as its status.
    undecided = link.status in (LinkStatus.PENDING, LinkStatus.UNDEFINED)
    status = LinkStatus.UNDEFINED if undecided else link.status
    return Transition(status=status, failures=link.failures, outcome=LinkStatus.UNDEFINED, **keep)


def acquired_link_record(
    *,
    link_id: int,
    result: CheckResult,
    checked_at: datetime,
    actor: AbstractBaseUser | None = None,
    automation: str = "",
    alert: bool = True,
) -> LinkCheck:
    """Apply one check to the link: guarded status update, history row, profile and alert.

    Retries its read-decide-update when another writer changed the link in between.
    ``alert=False`` (demo history) sends no email for a confirmed loss.
    """
    confirm = settings.LINKCRM_LINKCHECK_CONFIRM_FAILURES
    for _ in range(_RECORD_ATTEMPTS):
        link = AcquiredLink.objects.select_related("prospect", "prospect__project").get(pk=link_id)
        step = next_state(link, result, confirm=confirm)
        with transaction.atomic():
            if not _guarded_update(link, step, checked_at=checked_at):
                continue
            check = _history_row(link, step, result, checked_at=checked_at, actor=actor, automation=automation)
            _after_change(link, step, result, checked_at=checked_at, alert=alert)
            return check
    raise MonitoringError(f"link {link_id} kept changing under us; check not recorded")


def _guarded_update(link: AcquiredLink, step: Transition, *, checked_at: datetime) -> bool:
    """UPDATE … WHERE status = <old> AND failures = <old>; True when our row was the one changed."""
    hours = settings.LINKCRM_LINKCHECK_INTERVAL_HOURS if step.live else settings.LINKCRM_LINKCHECK_RETRY_HOURS
    values: dict[str, object] = {
        "status": step.status,
        "last_outcome": step.outcome,
        "failures": step.failures,
        "anchor": step.anchor,
        "rel": step.rel,
        "target_url": step.target_url,
        "last_checked_at": checked_at,
        "next_check_at": checked_at + timedelta(hours=hours),
    }
    if step.live:
        values["last_live_at"] = checked_at
        values["loss_confirmed_at"] = None
    elif step.status in LOSS_STATUSES and link.status not in LOSS_STATUSES:
        values["loss_confirmed_at"] = checked_at
    rows = AcquiredLink.objects.filter(pk=link.pk, status=link.status, failures=link.failures)
    return rows.update(**values) == 1


def _history_row(
    link: AcquiredLink,
    step: Transition,
    result: CheckResult,
    *,
    checked_at: datetime,
    actor: AbstractBaseUser | None,
    automation: str,
) -> LinkCheck:
    found = result.link
    return LinkCheck.objects.create(
        link=link, checked_at=checked_at, host=link.host, page_url=result.url or link.page_url,
        final_url=result.final_url, outcome=step.outcome, status_before=link.status, status_after=step.status,
        failures=step.failures, http_status=result.http_status, target_url=found.href if found else "",
        anchor=found.anchor if found else "", rel=" ".join(found.rel) if found else "",
        matching_links=result.matching_links, noindex=result.noindex, noindex_source=result.noindex_source,
        canonical=result.canonical, error=result.error[:2000], actor=actor, automation=automation,
    )  # fmt: skip


def _after_change(
    link: AcquiredLink, step: Transition, result: CheckResult, *, checked_at: datetime, alert: bool
) -> None:
    """Log a status change; record the link in the site's profile; alert on a confirmed loss."""
    if step.status != link.status:
        logger.info("acquired link %s (%s): %s -> %s", link.pk, link.page_url, link.status, step.status)
    site_id = link.prospect.project.site_id
    if step.live and result.link is not None and site_id is not None:
        _record_verified(site_id, link, result, checked_at=checked_at)
    if step.status in LOSS_STATUSES and link.status not in LOSS_STATUSES:
        if site_id is not None and link.target_url:
            backlink_mark_verified_lost(
                site_id=site_id, source_url=link.page_url, target_url=link.target_url, lost_on=checked_at.date()
            )
        if alert:
            transaction.on_commit(lambda: _email_loss(link.pk))


def _record_verified(site_id: int, link: AcquiredLink, result: CheckResult, *, checked_at: datetime) -> None:
    found = result.link
    assert found is not None
    verified = VerifiedLink(
        source_url=link.page_url, target_url=found.href, anchor=found.anchor, nofollow="nofollow" in found.rel,
        sponsored="sponsored" in found.rel, ugc="ugc" in found.rel, http_status=result.http_status,
    )  # fmt: skip
    try:
        backlink_record_verified(site_id=site_id, link=verified, seen_on=checked_at.date())
    except DomainError:
        logger.warning("acquired link %s: page URL %r has no usable host", link.pk, link.page_url)


def _email_loss(link_id: int) -> None:
    """Tell the assignee a loss is confirmed (runs after commit; a mail failure is logged, not raised)."""
    link = AcquiredLink.objects.select_related("prospect", "prospect__assignee").get(pk=link_id)
    person = link.prospect.assignee
    if not settings.LINKCRM_LINKCHECK_EMAIL_ALERTS or person is None or not person.email:
        return
    page = getattr(settings, "LINKCRM_PUBLIC_URL", "") + reverse(
        "prospects:prospect-detail", args=[link.prospect.project_id, link.prospect_id]
    )
    body = (
        f"The link on {link.page_url} is {link.get_status_display().lower()} after "
        f"{link.failures} checks in a row.\n\nOpen the prospect to reclaim it: {page}\n"
    )
    try:
        send_mail(f"Link lost: {link.prospect.domain}", body, None, [person.email])
    except OSError:
        logger.exception("could not email the loss of acquired link %s", link_id)


# --- reclaim ----------------------------------------------------------------------------------------


@transaction.atomic
def acquired_link_reclaim(*, link_id: int, actor: AbstractBaseUser, reason: str = "") -> StageChange:
    """Move the prospect of a confirmed loss back to To Contact (outreach); the link keeps its history.

    Raises MonitoringError when the loss is not confirmed or was already reclaimed, and
    pipeline.StageConflict when the prospect is no longer in Link Acquired.
    """
    rows = AcquiredLink.objects.filter(pk=link_id, status__in=LOSS_STATUSES, reclaimed_at__isnull=True)
    link = rows.select_related("prospect").first()
    if link is None:
        raise MonitoringError("only a confirmed lost or broken link that is not reclaimed yet can be reclaimed")
    why = reason.strip() or f"Reclaim: the link on {link.page_url} is {link.get_status_display().lower()}."
    change = prospect_move_stage(
        prospect_id=link.prospect_id, to_stage=Stage.TO_CONTACT, expected_from=Stage.LINK_ACQUIRED,
        actor=actor, reason=why,
    )  # fmt: skip
    if change is None or rows.filter(status=link.status).update(reclaimed_at=timezone.now()) != 1:
        raise MonitoringError("the link changed meanwhile; nothing was reclaimed")
    return change


# --- the sweep --------------------------------------------------------------------------------------


@dataclass
class SweepReport:
    """What one sweep did: checks per outcome; ``busy`` when another sweep held the lock."""

    checked: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    busy: bool = False

    def as_dict(self) -> dict[str, object]:
        return {"checked": self.checked, "outcomes": dict(self.outcomes), "busy": self.busy}


class HostPacer:
    """At most one request per host per ``delay`` seconds, counting requests of earlier sweeps."""

    def __init__(self, *, delay: float, clock: Clock, sleep: Sleep, last: dict[str, datetime] | None = None) -> None:
        self.delay = delay
        self.clock = clock
        self.sleep = sleep
        self.last: dict[str, datetime] = dict(last or {})

    def wait(self, host: str) -> None:
        """Sleep until ``host`` may be asked again, then note that it is being asked now."""
        previous = self.last.get(host)
        if previous is not None:
            gap = self.delay - (self.clock() - previous).total_seconds()
            if gap > 0:
                self.sleep(gap)
        self.last[host] = self.clock()


def links_sweep(
    *,
    client: SafeClient | None = None,
    clock: Clock = timezone.now,
    sleep: Sleep = time.sleep,
    link_ids: Iterable[int] | None = None,
    actor: AbstractBaseUser | None = None,
    automation: str = SWEEP_AUTOMATION,
) -> SweepReport:
    """Check due links (or just ``link_ids``, due or not) politely; one sweep at a time.

    Returns at once with ``busy`` when another sweep is running.
    """
    acquired_links_sync(now=clock())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_SWEEP_LOCK])
        if not cursor.fetchone()[0]:
            return SweepReport(busy=True)
    try:
        links = links_claim(now=clock(), link_ids=None if link_ids is None else list(link_ids))
        if not links:
            return SweepReport()
        owned = client is None
        client = client or make_client()
        try:
            return _check_links(links, client=client, clock=clock, sleep=sleep, actor=actor, automation=automation)
        finally:
            if owned:
                client.close()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_SWEEP_LOCK])


@transaction.atomic
def links_claim(*, now: datetime, link_ids: list[int] | None = None) -> list[AcquiredLink]:
    """Take a batch of due links (or the given monitored ones) and hide them from others for a lease."""
    if link_ids is None:
        link_ids = selectors.links_due_ids(
            now=now, batch=settings.LINKCRM_LINKCHECK_BATCH_SIZE, per_host=settings.LINKCRM_LINKCHECK_PER_HOST
        )
    rows = selectors.monitored_links().filter(pk__in=link_ids).select_for_update(skip_locked=True, of=("self",))
    links = list(rows.select_related("prospect").order_by("next_check_at", "id"))
    AcquiredLink.objects.filter(pk__in=[link.pk for link in links]).update(next_check_at=now + CLAIM_LEASE)
    return links


def _check_links(
    links: list[AcquiredLink],
    *,
    client: SafeClient,
    clock: Clock,
    sleep: Sleep,
    actor: AbstractBaseUser | None,
    automation: str,
) -> SweepReport:
    pacer = HostPacer(
        delay=settings.LINKCRM_LINKCHECK_HOST_DELAY_SECONDS,
        clock=clock,
        sleep=sleep,
        last=selectors.hosts_last_checked(link.host for link in links),
    )
    targets = _resolve_targets({link.prospect.project_id for link in links}, client=client, pacer=pacer)
    report = SweepReport()
    for link in _round_robin(links):
        pacer.wait(link.host)
        result = check_page(link.page_url, targets[link.prospect.project_id], client=client)
        acquired_link_record(
            link_id=link.pk, result=result, checked_at=clock(), actor=actor, automation="" if actor else automation
        )
        report.checked += 1
        report.outcomes[result.outcome] = report.outcomes.get(result.outcome, 0) + 1
    return report


def _resolve_targets(project_ids: set[int], *, client: SafeClient, pacer: HostPacer) -> dict[int, TargetSet]:
    """Each project's target set, its pages fetched once (paced like the linking pages)."""

    class _PacedClient:
        def get(self, url: str, **kwargs: object) -> object:
            pacer.wait(page_host(url))
            return client.get(url, **kwargs)

    paced = _PacedClient()
    return {
        pk: resolve_targets(targets.urls, client=paced, site_domain=targets.site_domain)  # type: ignore[arg-type]
        for pk, targets in selectors.targets_of_projects(project_ids).items()
    }


def _round_robin(links: list[AcquiredLink]) -> list[AcquiredLink]:
    """Interleave hosts (a, b, c, a, b, a …) so waiting on one host lets others go first."""
    by_host: dict[str, list[AcquiredLink]] = defaultdict(list)
    for link in links:
        by_host[link.host].append(link)
    return [link for group in zip_longest(*by_host.values()) for link in group if link is not None]


# --- check now ---------------------------------------------------------------------------------------


@transaction.atomic
def acquired_link_check_now(*, link: AcquiredLink, actor: AbstractBaseUser) -> None:
    """Queue one check of ``link`` for ``actor`` (after commit); politeness still applies.

    The link is also made due now: if a sweep holds the lock when the task runs, the task
    returns at once and the next sweep checks the link instead.
    """
    rows = selectors.monitored_links().filter(pk=link.pk)
    if rows.update(next_check_at=timezone.now()) != 1:
        raise MonitoringError("this link is not monitored: its prospect is not in Link Acquired")
    transaction.on_commit(lambda: async_task(CHECK_TASK, link.pk, actor.pk, task_name=f"link-check-{link.pk}"))


