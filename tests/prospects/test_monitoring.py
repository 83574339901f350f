"""Acquired-link monitoring against a linking page that a loopback server changes between checks."""

from __future__ import annotations

import http.server

import pytest

from audit.choices import PROVIDER_BIT, Provider
from audit.models import Backlink, RefDomain
from prospects.choices import ActorKind, LinkStatus, Stage
from prospects.models import AcquiredLink, LinkCheck, StageChange
from prospects.services.monitoring import MonitoringError, acquired_link_reclaim, links_sweep
from prospects.services.pipeline import StageConflict, prospect_move_stage
from tests.lib.loopback import serve
from tests.prospects.monitoring_world import (
    BLOG,
    OTHER,
    OURS,
    World,
    build_world,
    make_client,
    page_with,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def server():
    yield from serve()


@pytest.fixture
def world(server, alice, settings) -> World:
    settings.LINKCRM_LINKCHECK_CONFIRM_FAILURES = 3
    settings.LINKCRM_LINKCHECK_HOST_DELAY_SECONDS = 10
    return build_world(server, alice)


def our_link(world: World, anchor: str = "the best tent", rel: str = "", path: str = "/product/") -> str:
    rel_attr = f' rel="{rel}"' if rel else ""
    return f'<a href="{world.server.url(path, host="WWW." + OURS.upper())}"{rel_attr}>{anchor}</a>'


def hang(server):
    """A route that answers only when the server closes: every fetch of it times out."""

    def handle(request: http.server.BaseHTTPRequestHandler) -> None:
        server.release.wait(10)

    return handle


def test_it_follows_a_page_through_present_changed_removed_404_timeout_and_blocked(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    world.serve(page_with(our_link(world)))
    assert world.sweep().outcomes == {LinkStatus.ACTIVE: 1}
    link = world.link()
    assert (link.status, link.anchor, link.rel, link.failures) == (LinkStatus.ACTIVE, "the best tent", "", 0)

    world.serve(page_with(our_link(world, rel="nofollow sponsored")))
    world.next_day()
    link.refresh_from_db()
    assert (link.status, link.rel) == (LinkStatus.CHANGED, "nofollow sponsored")

    world.serve(page_with('<a href="https://elsewhere.example/">a shop</a>'))
    for failures in (1, 2):
        world.next_day()
        link.refresh_from_db()
        assert (link.status, link.last_outcome, link.failures) == (LinkStatus.CHANGED, LinkStatus.LOST, failures)
        assert mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        world.next_day()
    link.refresh_from_db()
    assert (link.status, link.failures, link.loss_confirmed_at) == (LinkStatus.LOST, 3, world.clock.now)
    assert [mail.to for mail in mailoutbox] == [["alice@example.test"]]
    assert f"/prospects/{world.prospect.pk}/" in mailoutbox[0].body and "3 checks in a row" in mailoutbox[0].body

    world.serve("gone", status=404)
    with django_capture_on_commit_callbacks(execute=True):
        world.next_day()
    link.refresh_from_db()
    assert (link.status, link.failures) == (LinkStatus.BROKEN, 4)

    world.server.route("/post", hang(world.server))
    world.clock.advance(days=1)
    world.sweep(read_timeout=0.2, total_timeout=1)
    link.refresh_from_db()
    assert (link.status, link.last_outcome, link.failures) == (LinkStatus.BROKEN, LinkStatus.UNDEFINED, 4)

    world.server.page("/robots.txt", "User-agent: *\nDisallow: /post\n", content_type="text/plain")
    world.next_day()
    history = list(LinkCheck.objects.filter(link=link).order_by("checked_at").values_list("outcome", "status_after"))
    assert history == [
        (LinkStatus.ACTIVE, LinkStatus.ACTIVE), (LinkStatus.CHANGED, LinkStatus.CHANGED),
        (LinkStatus.LOST, LinkStatus.CHANGED), (LinkStatus.LOST, LinkStatus.CHANGED),
        (LinkStatus.LOST, LinkStatus.LOST), (LinkStatus.BROKEN, LinkStatus.BROKEN),
        (LinkStatus.UNDEFINED, LinkStatus.BROKEN), (LinkStatus.UNDEFINED, LinkStatus.BROKEN),
    ]  # fmt: skip
    last = LinkCheck.objects.filter(link=link).latest("checked_at")
    assert "robots.txt" in last.error
    assert len(mailoutbox) == 1  # one alert per confirmed loss, not one per failed check


def test_it_records_anchor_rel_noindex_canonical_and_status_of_each_check(world):
    world.serve(
        "<html><head><meta name='robots' content='index'><link rel='canonical' href='/post-canonical'></head>"
        f"<body>{our_link(world, anchor='Tent  <b>review</b>', rel='UGC nofollow')}</body></html>",
        headers={"X-Robots-Tag": "googlebot: noindex"},
    )
    world.sweep()
    check = LinkCheck.objects.get()
    assert (check.anchor, check.rel, check.http_status, check.noindex, check.noindex_source) == (
        "Tent review", "ugc nofollow", 200, True, "header",
    )  # fmt: skip
    assert check.canonical == world.server.url("/post-canonical", host=BLOG)
    assert check.target_url == world.server.url("/product/", host="WWW." + OURS.upper())  # as written
    assert world.link().rel == "nofollow ugc"


def test_undefined_checks_never_count_as_lost(world):
    world.serve(page_with(our_link(world)))
    world.sweep()
    world.server.route("/post", hang(world.server))
    for _ in range(4):
        world.clock.advance(days=1)
        world.sweep(read_timeout=0.2, total_timeout=1)
    link = world.link()
    assert (link.status, link.failures, link.last_outcome) == (LinkStatus.ACTIVE, 0, LinkStatus.UNDEFINED)


def test_a_link_found_again_resets_the_failures(world):
    world.serve(page_with())
    world.sweep()
    world.next_day()
    assert world.link().failures == 2
    world.serve(page_with(our_link(world)))
    world.next_day()
    world.serve(page_with())
    world.next_day()
    link = world.link()
    assert (link.status, link.failures) == (LinkStatus.ACTIVE, 1)


def test_a_dns_failure_is_broken_and_the_ssrf_guard_is_undefined(world, alice, settings):
    settings.LINKCRM_LINKCHECK_CONFIRM_FAILURES = 1
    gone = world.acquire("vanished-blog.com", "https://vanished-blog.com/post", by=alice)
    private = world.acquire("intranet-blog.com", "https://intranet-blog.com/post", by=alice)
    world.serve(page_with(our_link(world)))
    world.sweep()
    statuses = dict(AcquiredLink.objects.values_list("prospect_id", "status"))
    assert statuses[gone.pk] == LinkStatus.BROKEN
    assert statuses[private.pk] == LinkStatus.UNDEFINED
    assert "cannot resolve" in LinkCheck.objects.get(link__prospect=gone).error
    assert "private" in LinkCheck.objects.get(link__prospect=private).error


def test_links_to_the_old_or_the_new_address_of_a_redirected_target_count(world):
    world.server.redirect("/product", world.server.url("/shop/tent", host=OURS), status=301)
    world.server.page("/shop/tent", "<html>tent</html>")
    world.serve(page_with(our_link(world, path="/shop/tent")))
    world.sweep()
    assert world.link().status == LinkStatus.ACTIVE
    world.serve(page_with(our_link(world, path="/product")))
    world.next_day()
    assert world.link().status == LinkStatus.ACTIVE
    world.serve(page_with(our_link(world, path="/about")))
    world.next_day()
    assert world.link().last_outcome == LinkStatus.LOST
    # One fetch of the target per sweep, however many links a project has.
    assert world.server.paths().count("/product") == 3


def test_a_live_link_is_recorded_in_the_sites_profile_and_its_loss_dated(world, settings):
    settings.LINKCRM_LINKCHECK_CONFIRM_FAILURES = 1
    world.serve(page_with(our_link(world, rel="nofollow")))
    world.sweep()
    backlink = Backlink.objects.get(site=world.project.site)
    assert backlink.providers & PROVIDER_BIT[Provider.VERIFIED]
    assert (backlink.source_url, backlink.source_domain, backlink.nofollow, backlink.lost_at) == (
        world.page_url, BLOG, True, None,
    )  # fmt: skip
    assert RefDomain.objects.get(site=world.project.site, domain=BLOG).backlinks == 1
    world.serve(page_with())
    world.next_day()
    backlink.refresh_from_db()
    assert backlink.lost_at == world.clock.now.date()
    assert RefDomain.objects.get(site=world.project.site, domain=BLOG).backlinks == 0


def test_an_imported_backlink_gains_the_verified_bit_and_keeps_its_provider(world):
    world.serve(page_with(our_link(world)))
    world.sweep()
    backlink = Backlink.objects.get()
    Backlink.objects.filter(pk=backlink.pk).update(providers=PROVIDER_BIT[Provider.AHREFS], ahrefs_dr=40)
    world.next_day()
    backlink.refresh_from_db()
    assert backlink.providers == PROVIDER_BIT[Provider.AHREFS] | PROVIDER_BIT[Provider.VERIFIED]
    assert backlink.ahrefs_dr == 40
    assert Backlink.objects.count() == 1


# --- politeness -----------------------------------------------------------------------------------


def test_one_request_per_host_per_delay_and_other_hosts_go_meanwhile(world, alice, server):
    seen: list[tuple[str, object]] = []
    second = build_world(server, alice, name="Second")  # the same blog, in another project
    third = world.acquire(OTHER, server.url("/other", host=OTHER), by=alice)
    assert third.pk
    for path in ("/post", "/other"):

        def handle(request, path=path):
            seen.append((request.headers["Host"].split(":")[0], world.clock.now))
            request.send_response(200)
            request.send_header("Content-Length", "0")
            request.end_headers()

        server.route(path, handle)
    second.clock = world.clock
    world.sweep()
    blog_times = [when for host, when in seen if host == BLOG]
    other_times = [when for host, when in seen if host == OTHER]
    assert len(blog_times) == 2 and len(other_times) == 1
    assert (blog_times[1] - blog_times[0]).total_seconds() >= 10
    assert other_times[0] < blog_times[1]  # the other host did not wait behind the blog


def test_politeness_counts_the_checks_of_an_earlier_sweep(world):
    world.serve(page_with(our_link(world)))
    world.sweep()
    world.clock.advance(seconds=3)
    world.clock.sleeps.clear()
    with make_client(world.server) as client:
        links_sweep(client=client, clock=world.clock, sleep=world.clock.sleep, link_ids=[world.link().pk])
    # The target page (our site) was not fetched in the last 10 s: only the blog waits.
    assert world.clock.sleeps == [7.0]


def test_a_sweep_takes_at_most_the_batch_and_per_host_limits(world, alice, server, settings):
    settings.LINKCRM_LINKCHECK_PER_HOST = 1
    build_world(server, alice, name="Second")
    world.acquire(OTHER, server.url("/other", host=OTHER), by=alice)
    world.serve(page_with())
    report = world.sweep()
    assert report.checked == 2  # one of the two on the blog, and the other host
    settings.LINKCRM_LINKCHECK_BATCH_SIZE = 1
    world.clock.advance(minutes=1)
    assert world.sweep().checked == 1


def test_a_link_checked_by_a_sweep_is_not_due_again_until_its_next_check(world):
    world.serve(page_with(our_link(world)))
    world.sweep()
    world.clock.advance(hours=1)
    assert world.sweep().checked == 0
    world.clock.advance(hours=24)
    assert world.sweep().checked == 1


# --- reclaim ------------------------------------------------------------------------------------------


def confirm_loss(world: World) -> AcquiredLink:
    world.serve(page_with())
    world.sweep()
    world.next_day()
    world.next_day()
    link = world.link()
    assert link.status == LinkStatus.LOST
    return link


def test_reclaim_moves_the_prospect_back_to_outreach_and_keeps_the_history(world, alice):
    link = confirm_loss(world)
    change = acquired_link_reclaim(link_id=link.pk, actor=alice)
    world.prospect.refresh_from_db()
    assert world.prospect.stage == Stage.TO_CONTACT
    assert (change.from_stage, change.to_stage, change.actor_kind, change.actor) == (
        Stage.LINK_ACQUIRED, Stage.TO_CONTACT, ActorKind.PERSON, alice,
    )  # fmt: skip
    assert "Reclaim" in change.reason
    link.refresh_from_db()
    assert link.reclaimed_at is not None and link.checks.count() == 3
    # No longer monitored while it is being worked again.
    world.clock.advance(days=2)
    assert world.sweep().checked == 0
    with pytest.raises(MonitoringError):
        acquired_link_reclaim(link_id=link.pk, actor=alice)


def test_reacquiring_a_reclaimed_prospect_starts_monitoring_over(world, alice):
    link = confirm_loss(world)
    acquired_link_reclaim(link_id=link.pk, actor=alice)
    prospect_move_stage(prospect_id=world.prospect.pk, to_stage=Stage.LINK_ACQUIRED, actor=alice)
    link = world.link()
    assert (link.status, link.failures, link.reclaimed_at) == (LinkStatus.PENDING, 0, None)
    assert link.checks.count() == 3


def test_only_a_confirmed_loss_can_be_reclaimed(world, alice):
    world.serve(page_with())
    world.sweep()
    with pytest.raises(MonitoringError):
        acquired_link_reclaim(link_id=world.link().pk, actor=alice)
    assert not StageChange.objects.filter(prospect=world.prospect, to_stage=Stage.TO_CONTACT).exists()


def test_reclaim_refuses_a_prospect_someone_moved_meanwhile(world, alice, bob):
    link = confirm_loss(world)
    prospect_move_stage(prospect_id=world.prospect.pk, to_stage=Stage.CONTACTED, actor=alice)
    with pytest.raises(StageConflict):
        acquired_link_reclaim(link_id=link.pk, actor=bob)
    link.refresh_from_db()
    assert link.reclaimed_at is None


# --- guards ---------------------------------------------------------------------------------------------


def test_a_status_change_from_a_stale_read_is_refused(world, settings):
    from prospects.linkcheck import CheckResult
    from prospects.services.monitoring import _guarded_update, acquired_link_record, next_state

    settings.LINKCRM_LINKCHECK_CONFIRM_FAILURES = 1
    world.serve(page_with(our_link(world)))
    world.sweep()
    stale = world.link()
    lost = CheckResult(outcome=LinkStatus.LOST, url=world.page_url, http_status=200)
    acquired_link_record(link_id=stale.pk, result=lost, checked_at=world.clock.now, automation="test")
    assert not _guarded_update(stale, next_state(stale, lost, confirm=1), checked_at=world.clock.now)
    fresh = world.link()
    assert (fresh.status, fresh.failures) == (LinkStatus.LOST, 1)
    assert (
        LinkCheck.objects.filter(link=fresh, status_before=LinkStatus.ACTIVE, status_after=LinkStatus.LOST).count() == 1
    )


def test_a_second_sweep_waits_its_turn(world):
    import psycopg
    from django.db import connection

    from prospects.services import monitoring

    world.serve(page_with(our_link(world)))
    with psycopg.connect(**connection.get_connection_params()) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [monitoring._SWEEP_LOCK])
        assert world.sweep().busy
        other.execute("SELECT pg_advisory_unlock(%s)", [monitoring._SWEEP_LOCK])
    assert world.sweep().checked == 1
