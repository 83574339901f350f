"""In Chromium: add a site, upload an export, watch the live progress finish, read the profile."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from audit.models import LinkImport
from audit.services import link_import_run
from tests.audit.test_profile_pages import semrush_csv
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path


def test_an_upload_shows_live_progress_then_the_profile(alice, login, page, media):
    base = login("alice", PASSWORD)
    page.goto(f"{base}/audit/")
    page.get_by_label("Domain or URL").fill("https://www.acme.com/shop")
    page.get_by_label("Brand terms").fill("Acme")
    page.get_by_role("button", name="Add site").click()
    expect(page.get_by_role("heading", name="acme.com", exact=True)).to_be_visible()

    export = media / "acme-backlinks.csv"
    export.write_bytes(semrush_csv(("https://blog.one.com/a", "https://acme.com/", "Acme", "false"),
                                   ("https://two.org/b", "https://acme.com/x", "click here", "true"),
                                   ("https://two.org/c", "https://acme.com/x", "acme tools", "false")))
    page.get_by_label("Export file").set_input_files(str(export))
    page.get_by_role("button", name="Upload and import").click()
    expect(page.locator("[data-status]")).to_have_text("Queued")

    # No worker runs here: the test plays the worker. The page polls every second and
    # reloads itself with the outcome once the import has finished.
    link_import_run(import_id=LinkImport.objects.get().pk)
    expect(page.locator("[data-status]")).to_have_text("Succeeded")
    expect(page.locator('[data-count="imported"]')).to_have_text("3")
    expect(page.get_by_role("button", name="Cancel import")).to_have_count(0)

    page.get_by_role("navigation", name="Link profile").get_by_role("link", name="Overview").click()
    expect(page.locator('[data-figure="live-backlinks"]')).to_have_text("3")
    expect(page.locator('[data-figure="live-refdomains"]')).to_have_text("2")
    page.get_by_role("navigation", name="Link profile").get_by_role("link", name="Anchors").click()
    expect(page.locator('#anchor-categories tr[data-category="compound"] td').nth(1)).to_have_text("1")


def test_an_unknown_csv_is_mapped_in_the_browser(alice, login, page, media):
    from audit.models import Site

    site = Site.objects.create(domain="acme.com")
    base = login("alice", PASSWORD)
    export = media / "other-tool.csv"
    export.write_text("From page;Anchor words\nhttps://one.com/a;hello\nhttps://two.org/b;world\n")
    page.goto(f"{base}/audit/sites/{site.pk}/imports/")
    page.get_by_label("Export file").set_input_files(str(export))
    page.get_by_role("button", name="Upload and import").click()
    expect(page.get_by_role("heading", name="Map the columns of other-tool.csv")).to_be_visible()
    expect(page.locator("#preview tbody tr")).to_have_count(2)
    page.locator("#map-backlinks").get_by_label("Linking page URL (required)").select_option("From page")
    page.locator("#map-backlinks").get_by_label("Anchor text").select_option("Anchor words")
    page.get_by_role("button", name="Import with this mapping").click()
    expect(page.locator("[data-status]")).to_have_text("Queued")
    imported = LinkImport.objects.get()
    assert imported.column_mapping == {"source_url": "From page", "anchor": "Anchor words"}
