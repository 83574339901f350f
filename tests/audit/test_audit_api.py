"""The audit API: sites, profile endpoints with the page's filters, imports with progress and cancel."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.choices import ImportStatus
from audit.models import LinkImport, Site
from audit.services import link_import_run
from tests.audit.profile_world import acme_world
from tests.audit.test_profile_pages import SEMRUSH_HEADER, semrush_csv

pytestmark = pytest.mark.django_db

SITES = "/api/audit/sites/"
IMPORTS = "/api/audit/imports/"


@pytest.fixture
def api(alice, client_for):
    return client_for(alice)


@pytest.fixture
def site() -> Site:
    return acme_world()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_outsiders_and_anonymous_callers_are_refused(site, outsider, client_for):
    assert client_for(outsider).get(SITES).status_code == 403
    assert client_for(None).get(f"{SITES}{site.pk}/overview/").status_code in (401, 403)
    assert client_for(outsider).post(IMPORTS, {}).status_code == 403


def test_sites_are_listed_with_live_counts(site, api):
    body = api.get(SITES).json()
    assert body["count"] == 1
    row = body["results"][0]
    assert (row["domain"], row["live_backlinks"], row["live_refdomains"]) == ("acme.com", 5, 3)
    assert row["brand_terms"] == ["Acme"]


def test_a_site_is_created_from_a_url_with_its_terms(api):
    response = api.post(SITES, {"domain_or_url": "https://shop.Zeta.co.uk/x", "brand_terms": ["Zeta", "zeta"],
                                "money_terms": "red widgets, blue widgets"}, content_type="application/json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["domain"], body["brand_terms"], body["money_terms"]) == (
        "zeta.co.uk", ["Zeta"], ["red widgets", "blue widgets"])
    bad = api.post(SITES, {"domain_or_url": "co.uk"}, content_type="application/json")
    assert bad.status_code == 400 and "domain_or_url" in bad.json()


def test_terms_can_be_changed_one_list_at_a_time(site, api):
    response = api.patch(f"{SITES}{site.pk}/terms/", {"money_terms": ["acme"]},
                         content_type="application/json")
    assert response.status_code == 200
    site.refresh_from_db()
    assert (site.brand_terms, site.money_terms) == (["Acme"], ["acme"])


def test_overview(site, api):
    body = api.get(f"{SITES}{site.pk}/overview/").json()
    assert (body["live_backlinks"], body["lost_backlinks"], body["live_refdomains"]) == (5, 1, 3)
    assert (body["follow"], body["nofollow"], body["ugc"], body["sponsored"]) == (2, 1, 1, 1)
    assert body["authority"]["semrush"] == [1, 0, 0, 0, 1, 0, 0, 0, 0, 1]
    assert body["link_types"]["image"] == 1


def test_refdomains_filter_sort_and_paginate_like_the_page(site, api):
    url = f"{SITES}{site.pk}/refdomains/"
    body = api.get(url, {"sort": "-semrush"}).json()
    assert [row["domain"] for row in body["results"]] == ["two.org", "one.com", "three.co.uk"]
    assert (body["count"], body["num_pages"]) == (3, 1)
    body = api.get(url, {"status": "all", "country": "de", "sort": "domain", "per_page": 1, "page": 2}).json()
    assert [row["domain"] for row in body["results"]] == ["two.org"]
    assert (body["count"], body["page"], body["num_pages"]) == (2, 2, 2)
    row = api.get(url, {"q": "one"}).json()["results"][0]
    assert (row["ip"], row["semrush_ascore"], row["ahrefs_dr"], row["follow_backlinks"]) == (
        "192.0.2.10", 45, 30, 1)
    bad = api.get(url, {"sort": "password", "authority_min": 300})
    assert bad.status_code == 400 and set(bad.json()) == {"sort", "authority_min"}


def test_anchors_with_a_category(site, api):
    body = api.get(f"{SITES}{site.pk}/anchors/").json()
    shares = {c["category"]: c["backlinks"] for c in body["categories"]}
    assert shares == {"branded": 1, "naked_url": 1, "generic": 1, "exact": 1, "partial": 0, "compound": 0,
                      "empty": 1, "other": 0}
    body = api.get(f"{SITES}{site.pk}/anchors/", {"category": "exact"}).json()
    assert body["top"] == [{"anchor": "blue widgets", "category": "exact", "backlinks": 1, "refdomains": 1}]
    assert api.get(f"{SITES}{site.pk}/anchors/", {"category": "nope"}).status_code == 400


def test_new_lost_tlds_countries_top_pages_and_subnets(site, api):
    body = api.get(f"{SITES}{site.pk}/new-lost/", {"period": "month"}).json()
    assert body["points"] == [
        {"start": "2024-01-01", "new": 4, "lost": 0}, {"start": "2024-02-01", "new": 2, "lost": 1}]
    body = api.get(f"{SITES}{site.pk}/new-lost/", {"period": "month", "of": "refdomains"}).json()
    assert [p["new"] for p in body["points"]] == [3, 1]
    tlds = api.get(f"{SITES}{site.pk}/tlds/").json()
    assert [(t["value"], t["count"]) for t in tlds["results"]] == [("co.uk", 1), ("com", 1), ("org", 1)]
    countries = api.get(f"{SITES}{site.pk}/countries/").json()
    assert [c["value"] for c in countries["results"]] == ["de", "gb", "us"] and countries["others"] == 0
    pages = api.get(f"{SITES}{site.pk}/top-pages/", {"sort": "backlinks"}).json()
    assert [(p["target_url"], p["backlinks"], p["refdomains"]) for p in pages["results"]] == [
        ("https://acme.com/", 3, 3), ("https://acme.com/widgets", 2, 2)]
    subnets = api.get(f"{SITES}{site.pk}/ip-subnets/").json()
    assert subnets["crowded"] == [{"subnet": "192.0.2.0/24", "domains": 2, "sample": ["one.com", "two.org"]}]
    assert subnets["distinct_subnets"] == 2


def test_unknown_site_is_404(api):
    assert api.get(f"{SITES}999999/overview/").status_code == 404


def upload(api, site: Site, content: bytes, **extra):
    data = {"site": site.pk, "file": SimpleUploadedFile("export.csv", content, content_type="text/csv")}
    data.update(extra)
    return api.post(IMPORTS, data)


def test_an_import_is_uploaded_run_and_followed(api, media):
    site = Site.objects.create(domain="acme.com")
    content = semrush_csv(("https://one.com/a", "https://acme.com/", "Acme", "false"),
                          ("https://two.org/b", "https://acme.com/", "x", "true"))
    response = upload(api, site, content)
    assert response.status_code == 201, response.json()
    created = response.json()
    assert (created["status"], created["format"], created["full_snapshot"]) == (
        "queued", "semrush_backlinks", True)
    assert created["progress"]["active"] is True
    link_import_run(import_id=created["id"])
    body = api.get(f"{IMPORTS}{created['id']}/").json()
    assert (body["status"], body["rows_imported"], body["rows_new"]) == ("succeeded", 2, 2)
    assert body["progress"]["percent"] == 100.0 and body["progress"]["active"] is False
    assert body["row_errors"] == []
    assert api.get(f"{SITES}{site.pk}/overview/").json()["live_backlinks"] == 2


def test_full_snapshot_can_be_set_explicitly(api, media):
    site = Site.objects.create(domain="acme.com")
    body = upload(api, site, semrush_csv(("https://one.com/a", "https://acme.com/", "a", "false")),
                  full_snapshot="false").json()
    assert body["full_snapshot"] is False


def test_a_refused_upload_says_why_and_where(api, media):
    site = Site.objects.create(domain="acme.com")
    response = upload(api, site, b"Who,What\nx,y\n")
    assert response.status_code == 400
    assert "does not match any supported export" in response.json()["detail"]
    assert response.json()["line"] == 1
    assert upload(api, site, f"{SEMRUSH_HEADER}\n".encode()).status_code == 400
    assert not LinkImport.objects.exists()


def test_a_generic_csv_is_imported_with_a_json_mapping(api, media):
    site = Site.objects.create(domain="acme.com")
    mapping = json.dumps({"source_url": "From", "anchor": "Text"})
    content = b"From,Text\nhttps://one.com/a,hello\nnot a url,bad\n"
    response = upload(api, site, content, column_mapping=mapping)
    assert response.status_code == 201, response.json()
    assert response.json()["column_mapping"] == {"source_url": "From", "anchor": "Text"}
    link_import_run(import_id=response.json()["id"])
    body = api.get(f"{IMPORTS}{response.json()['id']}/").json()
    assert (body["rows_imported"], body["rows_skipped"]) == (1, 1)
    assert [e["line"] for e in body["row_errors"]] == [3]
    bad = upload(api, site, b"From,Text\nx,y\n", column_mapping="{not json")
    assert bad.status_code == 400 and "column_mapping" in bad.json()


def test_imports_are_listed_per_site_and_cancelled(site, api):
    other = Site.objects.create(domain="other.example")
    mine = LinkImport.objects.create(site=site, file_name="a.csv")
    LinkImport.objects.create(site=other, file_name="b.csv")
    body = api.get(IMPORTS, {"site": site.pk}).json()
    assert [row["id"] for row in body["results"]] == [mine.pk]
    assert api.get(IMPORTS, {"site": "x"}).status_code == 400
    response = api.post(f"{IMPORTS}{mine.pk}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == ImportStatus.CANCELLED


def test_the_schema_documents_the_audit_endpoints(alice, client_for):
    schema = client_for(alice).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path in ("/api/audit/sites/", "/api/audit/sites/{id}/refdomains/", "/api/audit/sites/{id}/new-lost/",
                 "/api/audit/imports/", "/api/audit/imports/{id}/cancel/"):
        assert path in schema["paths"], path
    refdomains = schema["paths"]["/api/audit/sites/{id}/refdomains/"]["get"]
    parameters = {p["name"] for p in refdomains["parameters"]}
    assert {"sort", "authority_min", "follow_only", "page"} <= parameters
