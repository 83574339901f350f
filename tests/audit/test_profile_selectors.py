"""Profile selectors against a small known world (tests/audit/profile_world.py): exact figures."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from audit import selectors
from audit.anchors import OTHER
from audit.choices import AnchorCategory, ImportStatus
from audit.models import LinkImport, Site
from audit.selectors import RefDomainQuery
from tests.audit.profile_world import acme_world, link, refdomain

pytestmark = pytest.mark.django_db


@pytest.fixture
def site() -> Site:
    return acme_world()


def test_overview_counts_live_and_lost_and_splits_live_links(site):
    overview = selectors.site_overview(site)
    assert (overview.backlinks, overview.live_backlinks, overview.lost_backlinks) == (6, 5, 1)
    assert (overview.refdomains, overview.live_refdomains, overview.lost_refdomains) == (4, 3, 1)
    assert (overview.follow, overview.nofollow, overview.ugc, overview.sponsored) == (2, 1, 1, 1)
    assert overview.link_types == {"text": 4, "image": 1, "form": 0, "frame": 0, "redirect": 0, "other": 0}


def test_authority_histograms_use_ten_point_buckets_of_live_domains(site):
    histograms = selectors.authority_histograms(site)
    assert histograms["semrush"] == [1, 0, 0, 0, 1, 0, 0, 0, 0, 1]  # 5, 45, 100 (47 is lost)
    assert histograms["ahrefs"] == [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    assert "majestic" not in histograms
    assert "semrush_page" not in histograms and "ahrefs_page" not in histograms


def test_page_authority_histograms_count_live_links(site):
    from audit.models import Backlink

    Backlink.objects.filter(site=site, anchor="Acme").update(semrush_page_ascore=12, ahrefs_ur=99)
    Backlink.objects.filter(site=site, anchor="click here").update(semrush_page_ascore=19)
    Backlink.objects.filter(site=site, anchor="acme widgets").update(semrush_page_ascore=80)  # lost
    histograms = selectors.authority_histograms(site)
    assert histograms["semrush_page"] == [0, 2, 0, 0, 0, 0, 0, 0, 0, 0]
    assert histograms["ahrefs_page"] == [0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    assert histograms["semrush"] == [1, 0, 0, 0, 1, 0, 0, 0, 0, 1]  # domain scores are unchanged


def test_an_empty_site_has_zero_everything():
    empty = Site.objects.create(domain="empty.example")
    overview = selectors.site_overview(empty)
    assert (overview.backlinks, overview.refdomains, overview.follow) == (0, 0, 0)
    assert overview.authority == {}
    assert selectors.new_lost_series(empty).starts == []
    assert selectors.anchor_profile(empty).total_backlinks == 0
    assert selectors.top_pages(empty).total == 0
    assert selectors.ip_diversity(empty).domains_with_ip == 0


def test_site_list_counts_live_rows_and_shows_the_latest_import(site, alice):
    other = Site.objects.create(domain="zeta.example")
    LinkImport.objects.create(site=site, file_name="old.csv", status=ImportStatus.FAILED)
    latest = LinkImport.objects.create(site=site, file_name="new.csv", status=ImportStatus.SUCCEEDED)
    rows = {s.domain: s for s in selectors.site_list_with_stats()}
    assert (rows["acme.com"].live_backlinks, rows["acme.com"].live_refdomains) == (5, 3)
    assert (rows["acme.com"].last_import_id, rows["acme.com"].last_import_status) == (latest.pk, "succeeded")
    assert (rows[other.domain].live_backlinks, rows[other.domain].last_import_id) == (0, None)


def domains(page) -> list[str]:
    return [row.domain for row in page.rows]


def test_refdomains_sort_by_any_column_with_nulls_last(site):
    assert domains(selectors.refdomain_page(site, RefDomainQuery(sort="-semrush"))) == [
        "two.org", "one.com", "three.co.uk"]
    assert domains(selectors.refdomain_page(site, RefDomainQuery(sort="semrush"))) == [
        "three.co.uk", "one.com", "two.org"]
    # Only one.com has an Ahrefs DR: the others follow it in domain order, both ways.
    assert domains(selectors.refdomain_page(site, RefDomainQuery(sort="ahrefs"))) == [
        "one.com", "three.co.uk", "two.org"]
    assert domains(selectors.refdomain_page(site, RefDomainQuery(sort="-ahrefs"))) == [
        "one.com", "three.co.uk", "two.org"]
    assert domains(selectors.refdomain_page(site, RefDomainQuery(sort="-backlinks"))) == [
        "one.com", "two.org", "three.co.uk"]
    assert domains(selectors.refdomain_page(site, RefDomainQuery(sort="country"))) == [
        "two.org", "three.co.uk", "one.com"]
    assert domains(selectors.refdomain_page(site, RefDomainQuery(sort="nonsense"))) == [
        "three.co.uk", "one.com", "two.org"]  # unknown keys fall back to backlinks ascending


def test_refdomains_filters(site):
    def run(**kwargs) -> list[str]:
        return domains(selectors.refdomain_page(site, RefDomainQuery(sort="domain", **kwargs)))

    assert run(status="all") == ["four.de", "one.com", "three.co.uk", "two.org"]
    assert run(status="lost") == ["four.de"]
    assert run(q="TWO") == ["two.org"]
    assert run(tld=".co.uk") == ["three.co.uk"]
    assert run(country="DE", status="all") == ["four.de", "two.org"]
    assert run(authority_min=40, status="all") == ["four.de", "one.com", "two.org"]
    assert run(authority_min=40, authority_max=50) == ["one.com"]
    assert run(authority="ahrefs", authority_min=1) == ["one.com"]
    assert run(follow_only=True) == ["one.com", "two.org"]


def test_refdomains_pagination_counts_and_clamps(site):
    page = selectors.refdomain_page(site, RefDomainQuery(sort="domain", status="all", per_page=3, page=2))
    assert (domains(page), page.total, page.num_pages, page.has_previous, page.has_next) == (
        ["two.org"], 4, 2, True, False)
    assert page.start_index == 4
    clamped = selectors.refdomain_page(site, RefDomainQuery(sort="domain", status="all", per_page=3, page=99))
    assert clamped.page == 2


def test_anchor_profile_classifies_distinct_live_anchors(site):
    profile = selectors.anchor_profile(site)
    assert (profile.total_backlinks, profile.distinct_anchors) == (5, 5)
    shares = {share.category: (share.backlinks, share.percent) for share in profile.categories}
    assert shares[AnchorCategory.BRANDED] == (1, 20.0)
    assert shares[AnchorCategory.EXACT_MATCH] == (1, 20.0)
    assert shares[AnchorCategory.GENERIC] == (1, 20.0)
    assert shares[AnchorCategory.NAKED_URL] == (1, 20.0)
    assert shares[AnchorCategory.EMPTY] == (1, 20.0)
    assert shares[AnchorCategory.COMPOUND] == (0, 0.0)  # "acme widgets" is lost
    assert shares[OTHER] == (0, 0.0)


def test_anchors_group_case_and_spaces_and_count_referring_domains(site):
    link(site, "https://five.net/x", anchor="  ACME ")
    link(site, "https://five.net/y", anchor="acme")
    link(site, "https://six.net/z", anchor="Gardening tips")
    profile = selectors.anchor_profile(site)
    top = profile.top[0]
    assert (top.anchor.lower(), top.category, top.backlinks, top.refdomains) == ("acme", "branded", 3, 2)
    assert profile.distinct_anchors == 6
    only_other = selectors.anchor_profile(site, category=OTHER)
    assert [(row.anchor, row.backlinks) for row in only_other.top] == [("Gardening tips", 1)]
    limited = selectors.anchor_profile(site, limit=2)
    assert len(limited.top) == 2 and limited.total_backlinks == 8


def test_new_and_lost_per_week_are_zero_filled(site):
    series = selectors.new_lost_series(site, period="week")
    assert series.starts[0] == date(2024, 1, 1) and series.starts[-1] == date(2024, 2, 19)
    assert series.new == [2, 2, 0, 0, 0, 2, 0, 0]
    assert series.lost == [0, 0, 0, 0, 0, 0, 0, 1]
    assert series.labels[0] == "2024-01-01"


def test_new_and_lost_per_month_and_for_referring_domains(site):
    months = selectors.new_lost_series(site, period="month")
    assert (months.labels, months.new, months.lost) == (["2024-01", "2024-02"], [4, 2], [0, 1])
    domains_series = selectors.new_lost_series(site, period="month", of="refdomains")
    assert (domains_series.new, domains_series.lost) == ([3, 1], [0, 1])
    capped = selectors.new_lost_series(site, period="week", max_points=3)
    assert capped.starts == [date(2024, 2, 5), date(2024, 2, 12), date(2024, 2, 19)]


def test_month_steps_cross_the_year_end():
    site = Site.objects.create(domain="yearend.example")
    link(site, "https://a.com/", first_seen=date(2023, 11, 5))
    link(site, "https://b.com/", first_seen=date(2024, 2, 1))
    series = selectors.new_lost_series(site, period="month")
    assert series.labels == ["2023-11", "2023-12", "2024-01", "2024-02"]
    assert series.new == [1, 0, 0, 1]


def test_tld_and_country_distributions_count_live_domains(site):
    tlds, rest = selectors.tld_distribution(site)
    assert [(s.value, s.count) for s in tlds] == [("co.uk", 1), ("com", 1), ("org", 1)] and rest == 0
    refdomain(site, "five.com", country="us")
    countries, rest = selectors.country_distribution(site, limit=1)
    assert [(s.value, s.count, s.percent) for s in countries] == [("us", 2, 50.0)]
    assert rest == 2


def test_top_pages_count_live_links_and_distinct_domains(site):
    link(site, "https://one.com/another", "https://acme.com/widgets")  # same domain again
    page = selectors.top_pages(site)
    rows = [(r.target_url, r.backlinks, r.refdomains) for r in page.rows]
    assert rows == [("https://acme.com/", 3, 3), ("https://acme.com/widgets", 3, 2)]
    by_links = selectors.top_pages(site, sort="backlinks", per_page=1, page=2)
    # Equal link counts: the page with more referring domains comes first.
    assert [(r.target_url, r.backlinks) for r in by_links.rows] == [("https://acme.com/widgets", 3)]
    assert by_links.total == 2


def test_ip_diversity_groups_live_domains_by_slash_24(site):
    refdomain(site, "v6-a.net", ip="2001:db8:1:2::1")
    refdomain(site, "v6-b.net", ip="2001:db8:1:ff::9")
    diversity = selectors.ip_diversity(site)
    assert (diversity.domains_with_ip, diversity.distinct_ips, diversity.distinct_subnets) == (5, 5, 3)
    assert [(s.subnet, s.domains, s.sample) for s in diversity.crowded] == [
        ("192.0.2.0/24", 2, ["one.com", "two.org"]),
        ("2001:db8:1::/48", 2, ["v6-a.net", "v6-b.net"]),
    ]


def test_import_progress_from_bytes_rows_and_time(site):
    now = timezone.now()
    running = LinkImport(site=site, file_name="x.csv", status=ImportStatus.RUNNING, file_size=1000,
                         bytes_read=250, rows_read=50, started_at=now - timedelta(seconds=10))
    progress = selectors.import_progress(running, now=now)
    assert (progress.percent, progress.rows_per_second, progress.eta_seconds, progress.active) == (
        25.0, 5.0, 30, True)
    done = LinkImport(site=site, file_name="x.csv", status=ImportStatus.SUCCEEDED, file_size=1000,
                      bytes_read=990, rows_read=200, started_at=now - timedelta(seconds=60),
                      finished_at=now - timedelta(seconds=20))
    progress = selectors.import_progress(done, now=now)
    assert (progress.percent, progress.rows_per_second, progress.eta_seconds, progress.active) == (
        100.0, 5.0, None, False)
    queued = LinkImport(site=site, file_name="x.csv", status=ImportStatus.QUEUED, file_size=0)
    progress = selectors.import_progress(queued, now=now)
    assert (progress.percent, progress.rows_per_second, progress.eta_seconds) == (None, None, None)


def test_row_errors_are_sorted_by_line(site):
    imported = LinkImport(site=site, file_name="x.csv", row_errors=[
        {"line": 9, "field": "Source url", "message": "empty"},
        {"line": 3, "field": "First seen", "message": "not a date"},
    ])
    assert [e["line"] for e in selectors.import_row_errors(imported)] == [3, 9]
