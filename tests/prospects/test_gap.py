"""The gap selector on a known world (tests/prospects/gap_world.py): exact rows per tab and filter."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from prospects.choices import ProspectSource, SuppressionKind
from prospects.models import Project, ProjectCompetitor, Prospect, Suppression
from prospects.selectors.gap import GapQuery, GapTab, gap_domains, gap_export_rows, gap_page, gap_rows_for
from prospects.services.creation import prospects_create
from prospects.services.gap_prospects import prospects_create_from_gap_filter, prospects_create_from_gap_rows
from tests.prospects import gap_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> gap_world.World:
    return gap_world.build(Project.objects.create(name="Shop"))


def domains(world: gap_world.World, **query: object) -> list[str]:
    return [row.domain for row in gap_page(world.project, GapQuery(**query)).page.rows]


def test_each_tab_holds_exactly_its_domains(world):
    everything = {"hide_toxic": False}
    assert domains(world, tab=GapTab.BEST, **everything) == ["toxic.org", "best2.org", "best1.org"]
    assert domains(world, tab=GapTab.WEAK, **everything) == ["weak.org"]
    assert domains(world, tab=GapTab.STRONG, **everything) == ["mine.org"]
    assert domains(world, tab=GapTab.SHARED, **everything) == ["weak.org"]
    assert domains(world, tab=GapTab.UNIQUE, **everything) == ["nf.net", "mine.org", "lost.org", "one.org"]
    assert domains(world, tab=GapTab.MISSING, **everything) == ["toxic.org", "best2.org", "best1.org"]
    assert domains(world, tab=GapTab.MISSING, min_competitors=1, **everything) == [
        "toxic.org", "best2.org", "nf.net", "best1.org", "lost.org", "one.org",
    ]  # fmt: skip
    assert len(domains(world, tab=GapTab.ALL, **everything)) == 9


def test_counts_of_every_tab_come_with_the_page(world):
    page = gap_page(world.project, GapQuery(tab=GapTab.STRONG, hide_toxic=False))
    assert page.counts == {
        "best": 3, "weak": 1, "strong": 1, "shared": 1, "unique": 4, "missing": 3, "all": 9,
    }  # fmt: skip
    assert page.page.total == 1


def test_a_row_has_links_per_site_authority_and_first_seen(world):
    [row] = gap_rows_for(world.project, ["best1.org"])
    assert row.site_links == {world.alpha.id: 2, world.beta.id: 1}
    assert row.cells(gap_page(world.project, GapQuery()).sites) == [None, 2, 1]  # shop, alpha, beta
    assert (row.authority, row.links_to_you, row.competitors_linked) == (50, None, 2)
    assert (row.links, row.follow) == (3, 3)
    assert (row.first_seen, row.country, row.tld) == (dt.date(2024, 6, 1), "de", "org")


def test_subdomains_and_www_fold_into_the_registrable_domain(world):
    [row] = gap_rows_for(world.project, ["best2.org"])
    assert row.site_links == {world.alpha.id: 1, world.beta.id: 3}


def test_a_lost_link_does_not_count(world):
    [row] = gap_rows_for(world.project, ["lost.org"])
    assert row.site_links == {world.beta.id: 1}


def test_toxic_suppressed_and_existing_prospects_are_hidden_by_default(world):
    Suppression.objects.create(project=None, kind=SuppressionKind.DOMAIN, value="best1.org")
    prospects_create(project=world.project, domains=["best2.org"], source=ProspectSource.MANUAL,
                     created_by=None)
    assert domains(world, tab=GapTab.BEST) == []
    shown = domains(world, tab=GapTab.BEST, hide_toxic=False, hide_prospects=False, hide_suppressed=False)
    assert shown == ["toxic.org", "best2.org", "best1.org"]
    assert domains(world, tab=GapTab.BEST, hide_prospects=False) == ["best2.org"]
    [row] = gap_rows_for(world.project, ["best2.org"])
    assert row.is_prospect


def test_suppression_of_another_project_does_not_hide(world):
    other = Project.objects.create(name="Other")
    Suppression.objects.create(project=other, kind=SuppressionKind.DOMAIN, value="best1.org")
    Suppression.objects.create(project=world.project, kind=SuppressionKind.EMAIL, value="a@best2.org")
    assert domains(world, tab=GapTab.BEST) == ["best2.org", "best1.org"]


def test_filters(world):
    assert domains(world, tab=GapTab.ALL, authority_min=40, authority_max=60) == [
        "nf.net", "best1.org", "weak.org",
    ]  # fmt: skip
    assert domains(world, tab=GapTab.ALL, tld=".net") == ["nf.net"]
    assert domains(world, tab=GapTab.ALL, country="FR") == ["one.org"]
    assert "nf.net" not in domains(world, tab=GapTab.ALL, follow_only=True)
    assert domains(world, tab=GapTab.ALL, min_competitors=2) == ["best2.org", "best1.org", "weak.org"]
    assert domains(world, tab=GapTab.ALL, q="BEST") == ["best2.org", "best1.org"]
    assert domains(world, tab=GapTab.ALL, q="%") == []  # LIKE wildcards are literal


def test_counts_follow_the_filters(world):
    page = gap_page(world.project, GapQuery(tab=GapTab.ALL, tld="net"))
    assert page.counts == dict.fromkeys(GapTab.values, 0) | {"unique": 1, "all": 1}


def test_counts_do_not_depend_on_the_tab_shown(world):
    counts = [gap_page(world.project, GapQuery(tab=tab, min_competitors=2)).counts for tab in GapTab.values]
    assert all(c == counts[0] for c in counts)
    assert (counts[0]["missing"], counts[0]["all"], counts[0]["strong"]) == (2, 3, 0)


def test_sort_by_any_column_and_paginate(world):
    assert domains(world, tab=GapTab.ALL, sort="domain")[:3] == ["best1.org", "best2.org", "even.org"]
    assert domains(world, tab=GapTab.ALL, sort="-links")[:2] == ["weak.org", "best2.org"]
    by_beta = domains(world, tab=GapTab.ALL, sort=f"-site{world.beta.id}")
    assert by_beta[:3] == ["nf.net", "best2.org", "best1.org"]
    assert domains(world, tab=GapTab.ALL, sort="you")[:2] == ["weak.org", "even.org"]
    second = gap_page(world.project, GapQuery(tab=GapTab.ALL, sort="domain", per_page=3, page=2))
    assert [row.domain for row in second.page.rows] == ["lost.org", "mine.org", "nf.net"]
    assert (second.page.total, second.page.num_pages) == (8, 3)


def test_a_page_past_the_end_shows_the_last_page(world):
    page = gap_page(world.project, GapQuery(tab=GapTab.ALL, sort="domain", per_page=5, page=99))
    assert page.page.page == 2 and [row.domain for row in page.page.rows] == ["nf.net", "one.org", "weak.org"]


def test_an_unknown_sort_falls_back_to_authority(world):
    assert domains(world, tab=GapTab.BEST, sort="; DROP TABLE x") == ["best2.org", "best1.org"]


def test_without_a_site_every_domain_is_a_gap(world):
    Project.objects.filter(id=world.project.id).update(site=None)
    world.project.refresh_from_db()
    page = gap_page(world.project, GapQuery(tab=GapTab.BEST, hide_toxic=False))
    assert [row.domain for row in page.page.rows] == ["toxic.org", "best2.org", "best1.org", "weak.org"]
    assert page.counts["strong"] == 0 and page.counts["weak"] == 0
    assert [site.domain for site in page.sites.all] == ["alpha.com", "beta.com"]


def test_any_number_of_competitors(world):
    extra = [gap_world.site_get_or_create(domain_or_url=f"rival{n}.com") for n in range(12)]
    for site in extra:
        ProjectCompetitor.objects.create(project=world.project, site=site)
        gap_world.load(site, gap_world.links(site.domain, "best1.org", 1, authority=50))
    # Only best1.org links to all fourteen competitors now.
    assert domains(world, tab=GapTab.BEST) == ["best1.org"]
    [row] = gap_rows_for(world.project, ["best1.org"])
    assert row.competitors_linked == 14 and len(row.site_links) == 14


def test_export_streams_every_matching_row_with_links_per_site(world):
    query = GapQuery(tab=GapTab.MISSING, min_competitors=1, sort="domain")
    rows = list(gap_export_rows(world.project, query))
    assert [row.domain for row in rows] == ["best1.org", "best2.org", "lost.org", "nf.net", "one.org"]
    assert rows[0].site_links == {world.alpha.id: 2, world.beta.id: 1}
    assert (rows[0].authority, rows[0].country, rows[0].links) == (50, "de", 3)


def test_domains_for_creation_cover_every_page_in_order(world):
    query = GapQuery(tab=GapTab.ALL, sort="domain", per_page=2)
    assert gap_domains(world.project, query, limit=3) == ["best1.org", "best2.org", "even.org"]


def test_planner_settings_do_not_leak_out_of_the_gap(world):
    def settings() -> tuple[str, ...]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('enable_hashagg'), current_setting('jit'),"
                           " current_setting('work_mem')")
            return cursor.fetchone()

    before = settings()
    gap_page(world.project, GapQuery())
    list(gap_export_rows(world.project, GapQuery()))
    assert settings() == before


# --- prospects from gap rows --------------------------------------------------------------


def test_prospects_from_selected_rows_report_created_merged_suppressed_and_not_in_gap(world, manager):
    Suppression.objects.create(project=world.project, kind=SuppressionKind.DOMAIN, value="one.org")
    prospects_create(
        project=world.project, domains=["best2.org"], source=ProspectSource.MANUAL, created_by=None
    )
    report = prospects_create_from_gap_rows(
        project=world.project, domains=["best1.org", "best2.org", "one.org", "nowhere.org", "best1.org"],
        created_by=manager,
    )  # fmt: skip
    assert report.created == 1
    assert report.duplicates == ["best1.org", "best2.org"]  # given twice; already a prospect
    assert (report.suppressed, report.not_in_gap) == (["one.org"], ["nowhere.org"])
    created = Prospect.objects.get(id__in=report.created_ids)
    assert (created.domain, created.source, created.created_by) == ("best1.org", ProspectSource.GAP, manager)
    assert created.score > 0 and created.competitors_linked == 2  # scored at once


def test_prospects_from_a_filter_cover_every_page(world):
    query = GapQuery(tab=GapTab.MISSING, min_competitors=1, per_page=2, page=2)
    report = prospects_create_from_gap_filter(project=world.project, query=query, created_by=None)
    assert report.created == 5 and report.left_out == 0
    assert set(Prospect.objects.values_list("domain", flat=True)) == {
        "best1.org", "best2.org", "nf.net", "lost.org", "one.org",
    }  # fmt: skip


def test_prospects_from_a_filter_stop_at_the_limit_and_say_how_many_were_left(world):
    query = GapQuery(tab=GapTab.ALL, sort="domain")
    report = prospects_create_from_gap_filter(project=world.project, query=query, created_by=None, limit=3)
    assert report.created == 3 and report.left_out == 5
    assert sorted(Prospect.objects.values_list("domain", flat=True)) == ["best1.org", "best2.org", "even.org"]
