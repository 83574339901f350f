"""The audit pages render the right figures for the roles allowed to see them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.choices import ImportStatus
from audit.models import LinkImport, Site
from tests.audit.profile_world import acme_world, link, refdomain

pytestmark = pytest.mark.django_db


@pytest.fixture
def site() -> Site:
    return acme_world()


@pytest.fixture
def client(alice, client_for):
    return client_for(alice)


def url(name: str, *args: object) -> str:
    return reverse(f"audit:{name}", args=args)


def figure(html: str, name: str) -> str:
    match = re.search(rf'data-figure="{name}">([^<]*)<', html)
    assert match, name
    return match.group(1)


def table_column(html: str, table_id: str, css: str = "url") -> list[str]:
    """Texts of the ``<td class=css>`` cells inside one table, in order."""
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    assert table, table_id
    return re.findall(rf'<td class="{css}">(.*?)</td>', table.group(0), re.S)


def test_home_lists_sites_with_live_counts(site, client):
    html = client.get(url("home")).content.decode()
    row = re.search(r"acme\.com</a></td>\s*<td class=\"num\">(\d+)</td>\s*<td class=\"num\">(\d+)</td>", html)
    assert row and row.groups() == ("5", "3")
    assert 'action="/audit/sites/new/"' in html


def test_adding_a_site_folds_the_url_and_keeps_the_terms(client):
    response = client.post(url("site-add"), {
        "domain_or_url": "https://www.Blog.Zeta.co.uk/page", "brand_terms": "Zeta, Zeta Corp\nzeta",
        "money_terms": "red widgets",
    })
    site = Site.objects.get(domain="zeta.co.uk")
    assert response.status_code == 302 and response["Location"] == url("site-imports", site.pk)
    assert (site.brand_terms, site.money_terms) == (["Zeta", "Zeta Corp"], ["red widgets"])


def test_adding_a_public_suffix_or_garbage_is_refused(client):
    for text in ("co.uk", "http://", "not a domain at all"):
        response = client.post(url("site-add"), {"domain_or_url": text})
        assert response.status_code == 200 and b"errorlist" in response.content, text
    assert not Site.objects.exists()


def test_overview_shows_the_figures_and_charts(site, client):
    html = client.get(url("site-overview", site.pk)).content.decode()
    assert figure(html, "live-backlinks") == "5"
    assert figure(html, "live-refdomains") == "3"
    assert figure(html, "lost-backlinks") == "1"
    assert figure(html, "lost-refdomains") == "1"
    assert figure(html, "follow") == "2"
    assert html.count('class="chart bar-chart"') == 2  # Semrush and Ahrefs histograms; no Majestic
    assert "<title>Referring domains by Semrush Authority Score</title>" in html
    assert "Majestic Trust Flow" not in html
    assert "<title>Live links by type</title>" in html


def test_every_tab_renders_for_every_role(site, cast, client_for):
    tabs = ["site-overview", "site-refdomains", "site-anchors", "site-new-lost", "site-geo", "site-top-pages",
            "site-ip-subnets", "site-imports"]
    for user in ("alice", "manager", "admin"):
        client = client_for(cast[user])
        for name in tabs:
            assert client.get(url(name, site.pk)).status_code == 200, (user, name)
    assert client_for(cast["outsider"]).get(url("site-overview", site.pk)).status_code == 403


def test_unknown_site_is_404(client):
    assert client.get(url("site-overview", 999999)).status_code == 404


def test_only_managers_see_and_use_the_delete_button(site, manager, client, client_for):
    assert url("site-delete", site.pk) not in client.get(url("site-overview", site.pk)).content.decode()
    assert client.post(url("site-delete", site.pk)).status_code == 403
    managing = client_for(manager)
    assert url("site-delete", site.pk) in managing.get(url("site-overview", site.pk)).content.decode()
    assert managing.get(url("site-delete", site.pk)).status_code == 200
    response = managing.post(url("site-delete", site.pk))
    assert response.status_code == 302 and not Site.objects.filter(pk=site.pk).exists()


def test_a_site_used_by_a_project_is_not_deleted(site, manager, client_for):
    from prospects.models import Project

    Project.objects.create(name="Acme push", site=site)
    response = client_for(manager).post(url("site-delete", site.pk), follow=True)
    assert Site.objects.filter(pk=site.pk).exists()
    assert "is used by projects (Acme push)" in response.content.decode()


def test_refdomains_table_sorts_filters_and_escapes(site, client):
    base = url("site-refdomains", site.pk)
    html = client.get(base + "?sort=-semrush").content.decode()
    assert table_column(html, "refdomains") == ["two.org", "one.com", "three.co.uk"]
    html = client.get(base + "?sort=domain&status=all&country=de").content.decode()
    assert table_column(html, "refdomains") == ["four.de", "two.org"]
    html = client.get(base + "?authority_min=40&authority_max=50&follow_only=on").content.decode()
    assert table_column(html, "refdomains") == ["one.com"]
    refdomain(site, "x<b>y.com", tld="com")
    html = client.get(base + "?q=%3Cb%3E").content.decode()
    assert table_column(html, "refdomains") == ["x&lt;b&gt;y.com"]


def test_refdomains_header_links_toggle_the_sort_and_keep_filters(site, client):
    html = client.get(url("site-refdomains", site.pk) + "?sort=-semrush&tld=com").content.decode()
    assert 'href="?tld=com&amp;sort=semrush" class="sorted">Semrush AS ↓' in html
    assert 'href="?tld=com&amp;sort=domain">Domain' in html
    assert 'href="?tld=com&amp;sort=-backlinks">Links' in html


def test_refdomains_bad_filters_are_ignored_not_fatal(site, client):
    response = client.get(url("site-refdomains", site.pk) + "?authority_min=abc&sort=drop+table&page=-3")
    assert response.status_code == 200
    assert len(table_column(response.content.decode(), "refdomains")) == 3


def test_refdomains_pagination(site, client):
    for i in range(30):
        refdomain(site, f"bulk{i:02d}.net", backlinks=1)
    base = url("site-refdomains", site.pk) + "?sort=domain&per_page=25"
    first = client.get(base).content.decode()
    assert len(table_column(first, "refdomains")) == 25
    default = client.get(url("site-refdomains", site.pk)).content.decode()
    assert '<option value="50" selected>' in default  # the select shows the page size applied
    assert "1–25 of 33" in first and 'rel="next" href="?sort=domain&amp;per_page=25&amp;page=2"' in first
    second = client.get(base + "&page=2").content.decode()
    assert table_column(second, "refdomains") == [f"bulk{i}.net" for i in range(25, 30)] + [
        "one.com", "three.co.uk", "two.org"]
    assert "26–33 of 33" in second
    assert 'rel="prev"' in second and 'rel="next"' not in second


def test_anchors_page_shows_categories_and_terms_change_them(site, client):
    page = url("site-anchors", site.pk)
    html = client.get(page).content.decode()
    assert re.search(r'data-category="branded"><td><a [^>]*>Branded</a></td><td class="num">1</td>', html)
    assert re.search(r'data-category="exact"><td><a [^>]*>Exact match</a></td><td class="num">1</td>', html)
    response = client.post(url("site-terms", site.pk), {"brand_terms": "Zeta", "money_terms": "acme",
                                                          "next": page})
    assert response.status_code == 302
    html = client.get(page).content.decode()
    assert re.search(r'data-category="exact"><td><a [^>]*>Exact match</a></td><td class="num">1</td>', html)
    assert re.search(r'data-category="branded"><td><a [^>]*>Branded</a></td><td class="num">0</td>', html)
    site.refresh_from_db()
    assert (site.brand_terms, site.money_terms) == (["Zeta"], ["acme"])


def test_saving_terms_never_redirects_off_the_site(site, client):
    response = client.post(url("site-terms", site.pk), {"brand_terms": "Zeta", "money_terms": "",
                                                          "next": "https://evil.example/phish"})
    assert response.status_code == 302
    assert response["Location"] == url("site-anchors", site.pk)


def test_anchors_page_filters_by_category(site, client):
    link(site, "https://five.net/x", anchor="gardening <tips>")
    html = client.get(url("site-anchors", site.pk) + "?category=other").content.decode()
    assert table_column(html, "anchors") == ["gardening &lt;tips&gt;"]


def test_new_lost_page_draws_both_series(site, client):
    html = client.get(url("site-new-lost", site.pk) + "?period=month").content.decode()
    assert html.count('data-series="New"') == 2 and html.count('data-series="Lost"') == 2
    assert "New, 2024-01: 4" in html and "Lost, 2024-02: 1" in html


def test_geo_page_lists_tlds_and_countries(site, client):
    html = client.get(url("site-geo", site.pk)).content.decode()
    tlds = re.search(r'id="tlds".*?</table>', html, re.S).group(0)
    assert re.findall(r"<tr><td>([^<]+)</td>", tlds) == ["co.uk", "com", "org"]
    countries = re.search(r'id="countries".*?</table>', html, re.S).group(0)
    assert re.findall(r"<tr><td>([^<]+)</td>", countries) == ["DE", "GB", "US"]


def test_top_pages_and_ip_subnets(site, client):
    html = client.get(url("site-top-pages", site.pk)).content.decode()
    assert table_column(html, "top-pages") == ["https://acme.com/", "https://acme.com/widgets"]
    html = client.get(url("site-ip-subnets", site.pk)).content.decode()
    assert figure(html, "subnets") == "2"
    assert "192.0.2.0/24" in html and "one.com, two.org" in html


def test_semrush_button_only_when_a_key_is_configured(site, client, settings):
    settings.LINKCRM_SEMRUSH_API_KEY = ""
    assert b"Pull from Semrush API" not in client.get(url("site-imports", site.pk)).content
    settings.LINKCRM_SEMRUSH_API_KEY = "secret-key-value"
    html = client.get(url("site-imports", site.pk)).content.decode()
    assert "Pull from Semrush API" in html and "secret-key-value" not in html


def running_import(site: Site, **fields) -> LinkImport:
    defaults = {"file_name": "big.csv", "status": ImportStatus.RUNNING, "file_size": 2000, "bytes_read": 500,
                "rows_read": 1000, "started_at": timezone.now() - timedelta(seconds=10)}
    return LinkImport.objects.create(site=site, **{**defaults, **fields})


def test_a_running_import_polls_its_progress_every_second(site, client):
    imp = running_import(site)
    html = client.get(url("import-detail", site.pk, imp.pk)).content.decode()
    assert f'hx-get="{url("import-progress", site.pk, imp.pk)}" hx-trigger="every 1s"' in html
    assert "<strong data-percent>25.0%</strong>" in html
    assert 'aria-valuenow="25.0"' in html and "Cancel import" in html
    assert 'data-count="imported"' not in html  # no half-done counts while it runs
    fragment = client.get(url("import-progress", site.pk, imp.pk), HTTP_HX_REQUEST="true")
    assert "HX-Refresh" not in fragment and b'hx-trigger="every 1s"' in fragment.content
    assert b"<html" not in fragment.content  # a fragment, not a page
    assert b"data-merging" not in fragment.content


def test_a_running_import_past_its_last_byte_says_it_is_merging(site, client):
    imp = running_import(site, bytes_read=2000)
    fragment = client.get(url("import-progress", site.pk, imp.pk), HTTP_HX_REQUEST="true").content.decode()
    assert "<strong data-percent>100.0%</strong>" in fragment and "merging them into the profile" in fragment


def test_a_finished_import_stops_polling_and_reloads_the_page(site, client):
    imp = running_import(site, status=ImportStatus.SUCCEEDED, finished_at=timezone.now(), rows_imported=990,
                         rows_new=7, rows_lost=2)
    fragment = client.get(url("import-progress", site.pk, imp.pk), HTTP_HX_REQUEST="true")
    assert fragment["HX-Refresh"] == "true" and b"hx-trigger" not in fragment.content
    html = client.get(url("import-detail", site.pk, imp.pk)).content.decode()
    assert "hx-trigger" not in html and "Cancel import" not in html
    assert 'data-count="new">7<' in html and 'data-count="lost">2<' in html


def test_cancel_asks_the_service_to_stop(site, client):
    queued = running_import(site, status=ImportStatus.QUEUED, started_at=None)
    response = client.post(url("import-cancel", site.pk, queued.pk))
    assert response.status_code == 302
    queued.refresh_from_db()
    assert queued.status == ImportStatus.CANCELLED
    running = running_import(site)
    client.post(url("import-cancel", site.pk, running.pk))
    running.refresh_from_db()
    assert running.cancel_requested and running.status == ImportStatus.RUNNING


def test_import_of_another_site_is_404(site, client):
    other = Site.objects.create(domain="other.example")
    imp = running_import(other)
    assert client.get(url("import-detail", site.pk, imp.pk)).status_code == 404


def test_error_report_by_line_on_the_page_and_as_csv(site, client):
    imp = running_import(site, status=ImportStatus.SUCCEEDED, rows_skipped=2, row_errors=[
        {"line": 12, "field": "First seen", "message": "=HYPERLINK(\"x\") is not a date"},
        {"line": 4, "field": "Source url", "message": "empty <value>"},
    ])
    html = client.get(url("import-detail", site.pk, imp.pk)).content.decode()
    rows = re.findall(r'<tr><td class="num">(\d+)</td><td>([^<]*)</td><td>(.*?)</td></tr>', html)
    assert rows[0] == ("4", "Source url", "empty &lt;value&gt;") and rows[1][0] == "12"
    response = client.get(url("import-errors", site.pk, imp.pk))
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0] == "line,field,message"
    assert lines[1] == "4,Source url,empty <value>"
    assert lines[2].startswith("12,First seen,\"'=HYPERLINK")  # formula defused


# --- the upload flow, end to end through the pages and the real import services ------------------

SEMRUSH_HEADER = (
    "Page ascore,Source title,Source url,Target url,Anchor,External links,Internal links,Nofollow,Sponsored,"
    "Ugc,Text,Frame,Form,Image,Sitewide,First seen,Last seen,New link,Lost link"
)


def semrush_csv(*rows: tuple[str, str, str, str]) -> bytes:
    """A Semrush Backlinks export with rows of (source url, target url, anchor, nofollow)."""
    lines = [SEMRUSH_HEADER] + [
        f"40,Title,{source},{target},{anchor},10,20,{nofollow},false,false,true,false,false,false,false,"
        "2024-03-04,2025-01-02,false,false"
        for source, target, anchor, nofollow in rows
    ]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def upload(client, site: Site, name: str, content: bytes, *, complete: str = ""):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {"file": SimpleUploadedFile(name, content, content_type="text/csv"), "full_snapshot": complete}
    return client.post(url("import-upload", site.pk), data)


def run_latest(site: Site) -> LinkImport:
    from audit.services import link_import_run

    return link_import_run(import_id=LinkImport.objects.filter(site=site).latest("id").pk)


def test_uploading_a_semrush_export_builds_the_profile(client, media):
    site = Site.objects.create(domain="acme.com", brand_terms=["Acme"])
    content = semrush_csv(("https://blog.one.com/a", "https://acme.com/", "Acme", "false"),
                          ("https://two.org/b", "https://acme.com/x", "click here", "true"),
                          ("https://two.org/c", "https://acme.com/x", "Acme tools", "false"))
    response = upload(client, site, "acme-backlinks.csv", content)
    imported = LinkImport.objects.get(site=site)
    assert response.status_code == 302 and response["Location"] == url("import-detail", site.pk, imported.pk)
    # Left to the format: a Semrush Backlinks export is a complete one.
    assert (imported.status, imported.format, imported.full_snapshot) == (
        "queued", "semrush_backlinks", True)
    assert run_latest(site).status == ImportStatus.SUCCEEDED
    html = client.get(url("import-detail", site.pk, imported.pk)).content.decode()
    assert 'data-count="imported">3<' in html and 'data-count="new">3<' in html
    html = client.get(url("site-overview", site.pk)).content.decode()
    assert figure(html, "live-backlinks") == "3" and figure(html, "live-refdomains") == "2"
    html = client.get(url("site-refdomains", site.pk) + "?sort=domain").content.decode()
    assert table_column(html, "refdomains") == ["one.com", "two.org"]
    html = client.get(url("site-anchors", site.pk)).content.decode()
    assert re.search(r'data-category="compound"><td><a [^>]*>Compound</a></td><td class="num">1</td>', html)


def test_a_complete_export_marks_missing_links_lost(client, media):
    site = Site.objects.create(domain="acme.com")
    first = semrush_csv(("https://one.com/a", "https://acme.com/", "a", "false"),
                        ("https://two.org/b", "https://acme.com/", "b", "false"))
    upload(client, site, "first.csv", first, complete="yes")
    run_latest(site)
    only_one = semrush_csv(("https://one.com/a", "https://acme.com/", "a", "false"))
    upload(client, site, "partial.csv", only_one, complete="no")
    partial = run_latest(site)
    assert (partial.full_snapshot, partial.rows_lost) == (False, 0)
    upload(client, site, "second.csv", only_one, complete="yes")
    second = run_latest(site)
    assert (second.full_snapshot, second.rows_lost) == (True, 1)
    html = client.get(url("site-overview", site.pk)).content.decode()
    assert figure(html, "live-backlinks") == "1" and figure(html, "lost-backlinks") == "1"


def test_an_unreadable_upload_is_refused_on_the_form_and_nothing_is_stored(client, media):
    site = Site.objects.create(domain="acme.com")
    response = upload(client, site, "empty.csv", f"{SEMRUSH_HEADER}\n".encode())
    assert response.status_code == 400
    assert "The file was refused" in response.content.decode() and "no rows" in response.content.decode()
    assert not LinkImport.objects.exists()
    assert not any(path.is_file() for path in media.rglob("*"))


UNKNOWN = b"Referrer Page;Landing;Text;Seen\nhttps://one.com/a;https://acme.com/p;Acme;2024-05-06\n" \
          b"https://two.org/b;;<b>bold</b>;2024-05-07\n"


def test_an_unknown_header_leads_to_the_mapping_step_and_imports_with_it(client, media):
    site = Site.objects.create(domain="acme.com")
    response = upload(client, site, "other-tool.csv", UNKNOWN)
    assert response.status_code == 302 and "/imports/map/" in response["Location"]
    page = client.get(response["Location"])
    html = page.content.decode()
    header = re.findall(r'<table class="table small" id="preview">\s*<thead><tr>(.*?)</tr>', html, re.S)[0]
    assert header.count("<th>") == 4
    assert "&lt;b&gt;bold&lt;/b&gt;" in html  # the preview shows file content escaped
    assert 'value="Referrer Page"' in html
    posted = client.post(response["Location"], {
        "kind": "backlinks", "backlinks-source_url": "Referrer Page", "backlinks-target_url": "Landing",
        "backlinks-anchor": "Text", "backlinks-first_seen": "Seen",
    })
    imported = LinkImport.objects.get(site=site)
    assert posted.status_code == 302 and posted["Location"] == url("import-detail", site.pk, imported.pk)
    assert imported.format == "generic_csv"
    assert imported.column_mapping == {
        "source_url": "Referrer Page", "target_url": "Landing", "anchor": "Text", "first_seen": "Seen"}
    assert run_latest(site).rows_imported == 2
    assert sorted(site.backlinks.values_list("target_url", flat=True)) == ["https://acme.com/",
                                                                           "https://acme.com/p"]
    assert not [p for p in media.rglob("*") if p.is_file() and "pending" in p.parts]
    assert client.get(response["Location"]).status_code == 404  # the pending upload is gone


def test_the_mapping_needs_the_key_column_of_its_kind(client, media):
    site = Site.objects.create(domain="acme.com")
    location = upload(client, site, "other.csv", UNKNOWN)["Location"]
    response = client.post(location, {"kind": "refdomains", "backlinks-source_url": "Referrer Page"})
    assert response.status_code == 400
    assert "Map the column holding the Referring domain" in response.content.decode()
    response = client.post(location, {"kind": "backlinks", "backlinks-source_url": "Text",
                                      "backlinks-anchor": "Text"})
    assert response.status_code == 400 and "one field only: Text" in response.content.decode()
    assert not LinkImport.objects.exists()


def test_a_list_of_domains_can_be_mapped_too(client, media):
    site = Site.objects.create(domain="acme.com")
    content = b"Site,Score,Where\none.com,55,us\ntwo.org,7,de\n"
    location = upload(client, site, "domains.csv", content)["Location"]
    client.post(location, {"kind": "refdomains", "refdomains-domain": "Site", "refdomains-authority": "Score",
                           "refdomains-country": "Where"})
    assert run_latest(site).status == ImportStatus.SUCCEEDED
    assert dict(site.refdomains.values_list("domain", "country")) == {"one.com": "us", "two.org": "de"}


def test_discarding_or_using_another_users_token_gives_nothing_away(client, media, bob, client_for):
    site = Site.objects.create(domain="acme.com")
    location = upload(client, site, "other.csv", UNKNOWN)["Location"]
    assert client_for(bob).get(location).status_code == 404  # the token is tied to alice's session
    assert client.post(location, {"discard": "1"}).status_code == 302
    assert client.get(location).status_code == 404
    assert not [p for p in media.rglob("*") if p.is_file()]


def test_abandoned_pending_uploads_are_swept_after_a_day(client, media):
    import os
    import time

    from audit.tasks import link_import_files_prune_task

    site = Site.objects.create(domain="acme.com")
    old = upload(client, site, "old.csv", UNKNOWN)["Location"]
    (old_file,) = [p for p in media.rglob("*") if p.is_file()]
    two_days_ago = time.time() - 2 * 86400
    os.utime(old_file, (two_days_ago, two_days_ago))
    fresh = upload(client, site, "fresh.csv", UNKNOWN)["Location"]
    link_import_files_prune_task()  # the daily retention sweep
    assert not old_file.exists()
    assert client.get(old).status_code == 404 and client.get(fresh).status_code == 200


def test_semrush_pull_is_queued_only_with_a_key(client, settings, site):
    settings.LINKCRM_SEMRUSH_API_KEY = ""
    client.post(url("semrush-pull", site.pk), {"limit": "500"})
    assert not LinkImport.objects.exists()
    settings.LINKCRM_SEMRUSH_API_KEY = "k"
    response = client.post(url("semrush-pull", site.pk), {"limit": "500"})
    pulled = LinkImport.objects.get(site=site)
    assert response["Location"] == url("import-detail", site.pk, pulled.pk)
    assert (pulled.format, pulled.api_limit, pulled.status) == ("semrush_api", 500, "queued")
