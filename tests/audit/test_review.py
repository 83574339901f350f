"""Review decisions are history; the disavow list follows them; imports and exports of the list."""

from __future__ import annotations

import pytest

from audit import audit_selectors, review, toxicity
from audit.audit_selectors import FindingsQuery
from audit.choices import DisavowKind, DisavowOrigin, ReviewStatus
from audit.disavow import DisavowRefused
from audit.models import DisavowEntry, DisavowVersion, ReviewDecision, Site
from tests.audit.profile_world import link, refdomain

pytestmark = pytest.mark.django_db


@pytest.fixture
def site() -> Site:
    site = Site.objects.create(domain="acme.com", money_terms=["blue widgets"])
    refdomain(site, "spam.org", semrush_ascore=1)
    link(site, "https://spam.org/casino", anchor="blue widgets")
    link(site, "https://www.spam.org/b")
    refdomain(site, "fine.com", semrush_ascore=50)
    link(site, "https://fine.com/post")
    toxicity.toxicity_score_site(site=site)
    return site


def _active(site: Site) -> list[str]:
    return [str(entry) for entry in audit_selectors.disavow_entries(site)]


def test_every_decision_is_kept_and_the_latest_counts(site, manager, admin_user):
    review.review_decide(site=site, status=ReviewStatus.DISAVOWED, reason="casino farm", user=manager,
                         domains=["www.spam.org"])
    review.review_decide(site=site, status=ReviewStatus.WHITELISTED, reason="it is our partner", user=admin_user,
                         domains=["spam.org"])
    history = audit_selectors.decision_history(site, domain="spam.org")
    assert [(d.status, d.reason, d.decided_by) for d in history] == [
        (ReviewStatus.WHITELISTED, "it is our partner", admin_user),
        (ReviewStatus.DISAVOWED, "casino farm", manager),
    ]
    [row] = audit_selectors.findings_page(site, FindingsQuery(q="spam")).rows
    assert (row.domain, row.status) == ("spam.org", ReviewStatus.WHITELISTED)
    assert _active(site) == []  # whitelisting took it off the list again
    gone = DisavowEntry.objects.get(site=site, value="spam.org")
    assert gone.removed_by == admin_user and gone.added_by == manager


def test_a_link_decision_overrides_an_older_domain_decision(site, manager):
    casino = site.backlinks.get(source_url="https://spam.org/casino")
    review.review_decide(site=site, status=ReviewStatus.MONITOR, reason="", user=manager, domains=["spam.org"])
    review.review_decide(site=site, status=ReviewStatus.DISAVOWED, reason="casino page", user=manager,
                         backlink_ids=[casino.id])
    page = audit_selectors.findings_page(site, FindingsQuery(by="links", q="spam.org"))
    statuses = {row.source_url: row.status for row in page.rows}
    assert statuses == {
        "https://spam.org/casino": ReviewStatus.DISAVOWED, "https://www.spam.org/b": ReviewStatus.MONITOR,
    }
    assert _active(site) == ["https://spam.org/casino"]
    only = audit_selectors.findings_page(site, FindingsQuery(by="links", status=ReviewStatus.DISAVOWED))
    assert [row.backlink_id for row in only.rows] == [casino.id]


def test_findings_filter_by_band_and_marker(site):
    toxic = audit_selectors.findings_page(site, FindingsQuery(by="links", marker="money_anchor"))
    assert [row.source_url for row in toxic.rows] == ["https://spam.org/casino"]
    assert {m.code for m in toxic.rows[0].markers} == {"money_anchor", "spam_words", "low_authority"}
    assert toxic.rows[0].score == 60
    assert [r.domain for r in audit_selectors.findings_page(site, FindingsQuery(band="toxic")).rows] == ["spam.org"]
    assert audit_selectors.audit_summary(site).domains == {"toxic": 1, "potential": 0, "non_toxic": 1}


def test_links_of_another_site_are_refused(site, manager):
    other = Site.objects.create(domain="other.com")
    foreign = link(other, "https://x.org/a")
    with pytest.raises(review.ReviewError):
        review.review_decide(site=site, status=ReviewStatus.DISAVOWED, reason="", user=manager,
                             backlink_ids=[foreign.id])
    assert not ReviewDecision.objects.exists() and not DisavowEntry.objects.exists()


def test_an_import_with_errors_or_unconfirmed_warnings_changes_nothing(site, manager):
    with pytest.raises(review.DisavowFileRefused) as refused:
        review.disavow_import(site=site, data=b"domain:ok.org\ndomain:bad.org/path\n", user=manager)
    assert [issue.line for issue in refused.value.check.errors] == [2]
    with pytest.raises(review.DisavowFileRefused, match="risky"):
        review.disavow_import(site=site, data=b"domain:ok.org\ndomain:acme.com\n", user=manager)
    assert not DisavowEntry.objects.exists()
    result = review.disavow_import(site=site, data=b"# PBN\ndomain:ok.org\ndomain:acme.com\n", user=manager,
                                   accept_warnings=True, file_name="old.txt")
    assert (result.added, result.already) == (2, 0)
    entry = DisavowEntry.objects.get(value="ok.org")
    assert (entry.origin, entry.reason, entry.added_by) == (DisavowOrigin.IMPORT, "PBN", manager)
    decision = ReviewDecision.objects.get(domain="ok.org")
    assert (decision.status, decision.reason) == (ReviewStatus.DISAVOWED, "imported from old.txt: PBN")
    again = review.disavow_import(site=site, data=b"domain:ok.org\n", user=manager)
    assert (again.added, again.already) == (0, 1)


def test_exports_are_numbered_versions_of_the_current_list(site, manager):
    review.review_decide(site=site, status=ReviewStatus.DISAVOWED, reason="casino farm", user=manager,
                         domains=["spam.org"])
    first = review.disavow_export(site=site, user=manager)
    review.disavow_import(site=site, data=b"# shops\nhttps://shop.net/x\n", user=manager)
    entry = DisavowEntry.objects.get(value="spam.org")
    assert review.disavow_entry_remove(site=site, entry_id=entry.id, user=manager)
    second = review.disavow_export(site=site, user=manager)
    assert (first.number, second.number, second.lines) == (1, 2, 1)
    assert "# casino farm\ndomain:spam.org\n" in first.content
    assert "# shops\nhttps://shop.net/x\n" in second.content and "spam.org" not in second.content
    assert ReviewDecision.objects.filter(domain="spam.org").latest("decided_at").status == ReviewStatus.FOR_REVIEW
    assert DisavowVersion.objects.filter(site=site).count() == 2


def test_an_export_past_googles_limits_is_refused_and_not_stored(site, manager):
    DisavowEntry.objects.create(site=site, kind=DisavowKind.URL, value="https://a.org/" + "x" * 2100,
                                domain="a.org", origin=DisavowOrigin.IMPORT, added_at="2026-01-01T00:00Z")
    with pytest.raises(DisavowRefused, match="2,048"):
        review.disavow_export(site=site, user=manager)
    assert not DisavowVersion.objects.exists()


def test_the_sample_round_trips_through_the_list(site, manager, samples_dir):
    data = (samples_dir / "disavow" / "lucaberton.com-disavow.txt").read_bytes()
    review.disavow_import(site=site, data=data, user=manager)
    version = review.disavow_export(site=site, user=manager)
    from audit.disavow import parse_disavow

    original = [(e.text, e.reason) for e in parse_disavow(data).entries]
    exported = [(e.text, e.reason) for e in parse_disavow(version.content.encode()).entries]
    assert exported == original


def test_two_links_from_one_page_are_one_url_line_and_leave_together(site, manager):
    casino = site.backlinks.get(source_url="https://spam.org/casino")
    second = link(site, "https://spam.org/casino", target_url="https://acme.com/shop")
    review.review_decide(site=site, status=ReviewStatus.DISAVOWED, reason="casino page", user=manager,
                         backlink_ids=[casino.id, second.id], domains=["fine.com"])
    assert sorted(_active(site)) == ["domain:fine.com", "https://spam.org/casino"]
    review.review_decide(site=site, status=ReviewStatus.MONITOR, reason="", user=manager,
                         backlink_ids=[casino.id, second.id], domains=["fine.com"])
    assert _active(site) == []
    assert DisavowEntry.objects.filter(site=site, removed_by=manager).count() == 2
