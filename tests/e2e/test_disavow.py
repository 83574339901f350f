"""In Chromium: a manager marks a referring domain "Disavowed" in the toxicity audit, exports the
disavow file and finds the domain in the downloaded file."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from audit import toxicity
from audit.models import Site
from tests.audit.profile_world import link, refdomain
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_domain_marked_disavow_is_in_the_downloaded_file(manager, login, page, tmp_path):
    site = Site.objects.create(domain="acme.com", money_terms=["blue widgets"])
    refdomain(site, "casino-links-4you.xyz", tld="xyz", semrush_ascore=1)
    link(site, "https://casino-links-4you.xyz/best-casino", anchor="blue widgets")
    refdomain(site, "friendly.org", semrush_ascore=60)
    link(site, "https://friendly.org/post", anchor="Acme")
    toxicity.toxicity_score_site(site=site)

    base = login("manager", PASSWORD)
    page.goto(f"{base}/audit/sites/{site.pk}/toxicity/")
    row = page.locator('#findings tr[data-domain="casino-links-4you.xyz"]')
    expect(row.locator("[data-score]")).to_have_text("85")  # money 20, TLD 15, name 10, words 25, authority 15
    expect(row).to_contain_text("Spam words in URL or title")
    row.get_by_role("checkbox").check()
    page.get_by_label("Decision").select_option(label="Disavowed")
    page.get_by_label("Why").fill("casino link farm")
    page.get_by_role("button", name="Apply to ticked").click()
    expect(page.locator('#findings tr[data-domain="casino-links-4you.xyz"] [data-status]')).to_have_text("Disavowed")
    expect(page.locator('#findings tr[data-domain="friendly.org"] [data-status]')).to_have_text("For review")

    page.get_by_role("navigation", name="Link profile").get_by_role("link", name="Disavow").click()
    expect(page.locator("#disavow-entries")).to_contain_text("domain:casino-links-4you.xyz")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export new version").click()
    download = download_info.value
    assert download.suggested_filename == "acme.com-disavow-v1.txt"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    lines = saved.read_text(encoding="utf-8").splitlines()
    assert "domain:casino-links-4you.xyz" in lines
    assert "# casino link farm" in lines
    assert not any("friendly.org" in line for line in lines)
