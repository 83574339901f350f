"""The gap pages: who may open them, tabs and filters in the page, CSV export, prospects from rows."""

from __future__ import annotations

import csv
import io

import pytest

from audit.models import RefDomain
from prospects.choices import ProspectSource, SuppressionKind
from prospects.models import Project, Prospect, Suppression
from prospects.services.creation import prospects_create
from prospects.services.projects import project_add_member
from prospects.views.gap import csv_safe
from tests.prospects import gap_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(cast) -> gap_world.World:
    project = Project.objects.create(name="Shop")
    project_add_member(project=project, user=cast["alice"], added_by=None)
    return gap_world.build(project)


def url(world: gap_world.World, suffix: str = "") -> str:
    return f"/projects/{world.project.pk}/gap/{suffix}"


def export(client, world, query: str = "") -> list[list[str]]:
    response = client.get(url(world, "export.csv") + query)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_members_see_the_gap_with_tab_counts(world, cast, client_for):
    response = client_for(cast["alice"]).get(url(world))
    page = response.content.decode()
    assert response.status_code == 200
    assert "best2.org" in page and "best1.org" in page and "weak.org" not in page
    assert 'aria-current="page">Best<span class="count">2</span>' in page
    assert "Weak<span class=\"count\">1</span>" in page


def test_non_members_get_404_and_outsiders_403(world, cast, client_for):
    assert client_for(cast["bob"]).get(url(world)).status_code == 404
    assert client_for(cast["bob"]).get(url(world, "export.csv")).status_code == 404
    assert client_for(cast["bob"]).post(url(world, "prospects/"), {"domain": "best1.org"}).status_code == 404
    assert client_for(cast["outsider"]).get(url(world)).status_code == 403
    assert client_for(None).get(url(world)).status_code == 302
    assert Prospect.objects.count() == 0


def test_tabs_filters_and_sort_come_from_the_query_string(world, cast, client_for):
    client = client_for(cast["alice"])
    page = client.get(url(world) + "?tab=all&tld=net").content.decode()
    assert "nf.net" in page and "best1.org" not in page
    page = client.get(url(world) + "?tab=unique&sort=domain").content.decode()
    assert page.index("lost.org") < page.index("mine.org") < page.index("nf.net") < page.index("one.org")
    page = client.get(url(world) + "?tab=all&authority_min=abc").content.decode()
    assert "not understood" in page and "best1.org" in page  # the bad filter is ignored, not fatal


def test_the_table_has_a_column_per_compared_site(world, cast, client_for):
    page = client_for(cast["alice"]).get(url(world)).content.decode()
    for site in (world.shop, world.alpha, world.beta):
        assert f"sort=-site{site.pk}" in page and site.domain in page


def test_csv_export_has_every_matching_row_and_a_column_per_site(world, cast, client_for):
    query = "?tab=missing&min_competitors=1&sort=domain&per_page=25&page=2"  # every page, not the second
    rows = export(client_for(cast["alice"]), world, query)
    assert rows[0] == [
        "domain", "authority", "competitors_linked", "links_to_shop.com", "links_to_alpha.com",
        "links_to_beta.com", "links", "follow_links", "first_seen", "tld", "country",
    ]  # fmt: skip
    assert [row[0] for row in rows[1:]] == ["best1.org", "best2.org", "lost.org", "nf.net", "one.org"]
    assert rows[1] == ["best1.org", "50", "2", "", "2", "1", "3", "3", "2024-06-01", "org", "de"]


def test_csv_export_defuses_formulas(world, cast, client_for):
    # Whatever once let such a "domain" in, a spreadsheet must not run it as a formula.
    for name in ("=1+1.com", "-2+3.com"):
        RefDomain.objects.create(site=world.alpha, domain=name, tld="com", backlinks=1, follow_backlinks=1)
    domains = [row[0] for row in export(client_for(cast["alice"]), world, "?tab=all&sort=domain")[1:]]
    assert "'=1+1.com" in domains and "'-2+3.com" in domains
    assert "=1+1.com" not in domains


@pytest.mark.parametrize(
    ("value", "expected"),
    [("=SUM(A1)", "'=SUM(A1)"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"), ("\tx", "'\tx"), ("ok", "ok"),
     (5, 5), (None, "")],
)  # fmt: skip
def test_csv_safe(value, expected):
    assert csv_safe(value) == expected


def test_prospects_from_selected_rows_with_a_report(world, cast, client_for):
    Suppression.objects.create(project=None, kind=SuppressionKind.DOMAIN, value="one.org")
    prospects_create(
        project=world.project, domains=["best2.org"], source=ProspectSource.MANUAL, created_by=None
    )
    response = client_for(cast["alice"]).post(
        url(world, "prospects/"),
        {"domain": ["best1.org", "best2.org", "one.org", "elsewhere.org"], "query": "tab=missing&page=3"},
        follow=True,
    )  # fmt: skip
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == url(world) + "?tab=missing"
    assert "1 prospect created." in page
    assert "1 already prospects (merged): best2.org." in page
    assert "1 on a do-not-contact list (not created): one.org." in page
    assert "1 not in this project&#x27;s gap: elsewhere.org." in page
    assert Prospect.objects.get(domain="best1.org").created_by == cast["alice"]


def test_prospect_from_one_row(world, cast, client_for):
    client_for(cast["alice"]).post(url(world, "prospects/"), {"only": "best1.org", "domain": ["best2.org"]})
    assert list(Prospect.objects.values_list("domain", flat=True)) == ["best1.org"]


def test_all_matching_rows_need_a_manager(world, cast, client_for):
    query = "tab=missing&min_competitors=1"
    assert client_for(cast["alice"]).post(url(world, "prospects/all/"), {"query": query}).status_code == 403
    response = client_for(cast["manager"]).post(url(world, "prospects/all/"), {"query": query}, follow=True)
    assert "5 prospects created." in response.content.decode()  # toxic.org stays hidden
    domains = set(Prospect.objects.values_list("domain", flat=True))
    assert domains == {"best1.org", "best2.org", "nf.net", "lost.org", "one.org"}


def test_creating_needs_post(world, cast, client_for):
    assert client_for(cast["alice"]).get(url(world, "prospects/")).status_code == 405
