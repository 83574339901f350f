"""Importing gap exports: Ahrefs Link Intersect as it is, other exports through the mapping."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.choices import ImportFormat, ImportKind, ImportStatus
from audit.importers.base import ImportRefused
from audit.models import LinkImport, RefDomain, Site
from audit.services import site_get_or_create
from prospects.gap_import import GapMapping, gap_import
from prospects.models import Project, ProjectCompetitor
from prospects.selectors.gap import GapQuery, GapTab, gap_page
from prospects.services.projects import project_add_member
from tests.prospects import gap_world

pytestmark = pytest.mark.django_db
FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "gap" / "ahrefs-link-intersect.csv"


@pytest.fixture
def project() -> Project:
    shop, alpha = site_get_or_create(domain_or_url="shop.com"), site_get_or_create(domain_or_url="alpha.com")
    project = Project.objects.create(name="Shop", site=shop)
    ProjectCompetitor.objects.create(project=project, site=alpha)
    return project


def run(project: Project, data: bytes, mapping: GapMapping | None = None):
    stream = io.BytesIO(data)
    return gap_import(project=project, stream=stream, file_name="gap.csv", created_by=None, mapping=mapping)


def refdomains(domain: str) -> dict[str, tuple]:
    rows = RefDomain.objects.filter(site__domain=domain).order_by("domain")
    return {r.domain: (r.reported_backlinks, r.ahrefs_dr, r.semrush_ascore, r.lost_at) for r in rows}


def database_state() -> tuple:
    return (
        list(Site.objects.values_list("domain", flat=True).order_by("domain")),
        RefDomain.objects.count(), LinkImport.objects.count(), ProjectCompetitor.objects.count(),
    )  # fmt: skip


def test_an_ahrefs_link_intersect_export_lands_as_referring_domains_of_each_site(project):
    result = run(project, FIXTURE.read_bytes())
    assert (result.rows, result.skipped) == (5, 0)
    assert result.linking == {"alpha.com": 3, "beta.com": 3, "shop.com": 2}
    assert refdomains("alpha.com") == {
        "best1.org": (3, 50, None, None), "both.io": (1, 45, None, None),
        "yes-only.org": (None, None, None, None),  # "yes": links, count unknown
    }  # fmt: skip
    assert refdomains("beta.com") == {
        "best1.org": (1, 50, None, None), "both.io": (1000, 45, None, None),
        "newref.net": (7, 35, None, None),
    }  # fmt: skip
    assert refdomains("shop.com") == {"both.io": (2, 45, None, None), "shop-only.org": (4, 12, None, None)}


def test_a_new_target_becomes_a_competitor_and_the_gap_shows_the_rows(project):
    result = run(project, FIXTURE.read_bytes())
    assert result.competitors_added == ["beta.com"]
    assert sorted(project.competitors.values_list("domain", flat=True)) == ["alpha.com", "beta.com"]
    page = gap_page(project, GapQuery(tab=GapTab.BEST))
    assert [row.domain for row in page.page.rows] == ["best1.org"]
    [row] = page.page.rows
    assert row.cells(page.sites) == [None, 3, 1] and row.authority == 50
    assert gap_page(project, GapQuery(tab=GapTab.SHARED)).page.rows[0].domain == "both.io"


def test_each_site_gets_a_finished_import_that_never_marks_links_lost(project):
    result = run(project, FIXTURE.read_bytes())
    imports = LinkImport.objects.filter(id__in=result.import_ids).order_by("site__domain")
    assert [(i.site.domain, i.rows_read) for i in imports] == [
        ("alpha.com", 3), ("beta.com", 3), ("shop.com", 2),
    ]
    for link_import in imports:
        assert (link_import.status, link_import.kind, link_import.format, link_import.full_snapshot) == (
            ImportStatus.SUCCEEDED, ImportKind.REFDOMAINS, ImportFormat.AHREFS_REFDOMAINS, False,
        )  # fmt: skip


def test_utf16_tab_separated_as_ahrefs_writes_exports(project):
    text = FIXTURE.read_text().replace('","', '"\t"')
    result = run(project, b"\xff\xfe" + text.encode("utf-16-le"))
    assert result.linking == {"alpha.com": 3, "beta.com": 3, "shop.com": 2}


def test_existing_link_data_is_kept(project):
    gap_world.load(project.competitors.get(domain="alpha.com"),
                   gap_world.links("alpha.com", "best1.org", 2, authority=30))  # fmt: skip
    run(project, FIXTURE.read_bytes())
    row = RefDomain.objects.get(site__domain="alpha.com", domain="best1.org")
    assert (row.backlinks, row.reported_backlinks, row.semrush_ascore, row.ahrefs_dr) == (2, 3, 30, 50)


def test_bad_rows_are_skipped_and_reported_with_line_and_column(project):
    bad = (b'"not a domain!","20","","1","2","",""\n"ok.org","20","","1","lots","",""\n'
           b'"=1+1.com","","","","1","",""\n')  # fmt: skip
    data = FIXTURE.read_bytes() + bad
    result = run(project, data)
    assert result.skipped == 3
    assert result.row_errors[0]["line"] == 7 and result.row_errors[0]["field"] == "Referring domain"
    assert result.row_errors[1] == {
        "line": 8, "field": "alpha.com/", "message": "expected a link count or yes/no, got 'lots'",
    }  # fmt: skip
    assert (result.row_errors[2]["line"], result.row_errors[2]["field"]) == (9, "Referring domain")
    assert "ok.org" not in refdomains("alpha.com") and "=1+1.com" not in refdomains("alpha.com")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"Domain,DR,Traffic\nexample.org,3,4\n", "not an Ahrefs Link Intersect export"),
        (b'"Referring domain","alpha.com/","www.alpha.com/"\n"x.org","1","1"\n', "are both alpha.com"),
        (b'"Referring domain","com/"\n"x.org","1"\n', "does not name a site"),
        (b'"Referring domain","alpha.com/"\n"x.org",""\n"y.org","0"\n', "no row says a domain links"),
    ],
)
def test_a_refused_file_writes_nothing(project, data, message):
    before = database_state()
    with pytest.raises(ImportRefused, match=message):
        run(project, data)
    assert database_state() == before


def test_too_many_bad_rows_refuse_the_whole_file(project, settings):
    settings.LINKCRM_IMPORT_MAX_BAD_ROWS = 1
    before = database_state()
    data = FIXTURE.read_bytes() + b'"a b","","","","1","",""\n"c d","","","","1","",""\n'
    with pytest.raises(ImportRefused, match="more than 1 malformed rows"):
        run(project, data)
    assert database_state() == before


def test_any_gap_export_through_the_mapping(project):
    data = b"Domain;Authority Score;Matches;alpha.com;beta.com\nbest1.org;61;2;4;2\nsolo.org;9;1;0;5\n"
    mapping = GapMapping(domain="domain", authority="Authority Score", authority_scale="semrush",
                         targets={"alpha.com": "alpha.com", "BETA.COM": "https://beta.com/"})  # fmt: skip
    result = run(project, data, mapping)
    assert result.linking == {"alpha.com": 1, "beta.com": 2}
    assert refdomains("beta.com") == {"best1.org": (2, None, 61, None), "solo.org": (5, None, 9, None)}


def test_a_mapping_naming_a_missing_column_is_refused(project):
    mapping = GapMapping(domain="Domain", targets={"gamma.com": "gamma.com"})
    with pytest.raises(ImportRefused, match="site column 'gamma.com' is not in the header"):
        run(project, b"Domain,alpha.com\nx.org,1\n", mapping)


def test_the_import_page_is_for_managers(project, cast, client_for):
    project_add_member(project=project, user=cast["alice"], added_by=None)
    path = f"/projects/{project.pk}/gap/import/"
    assert client_for(cast["alice"]).get(path).status_code == 403
    upload = SimpleUploadedFile("intersect.csv", FIXTURE.read_bytes(), content_type="text/csv")
    response = client_for(cast["manager"]).post(path, {"file": upload})
    page = response.content.decode()
    assert response.status_code == 200 and 'id="import-result"' in page
    assert "beta.com <span class=\"badge\">added as competitor</span>" in page


def test_the_import_page_says_why_a_file_was_refused(project, cast, client_for):
    upload = SimpleUploadedFile("x.csv", b"Domain,DR\nexample.org,3\n", content_type="text/csv")
    response = client_for(cast["manager"]).post(f"/projects/{project.pk}/gap/import/", {"file": upload})
    assert response.status_code == 400
    why = "Nothing was imported: line 1: this is not an Ahrefs Link Intersect export"
    assert why in response.content.decode()
