"""In Chromium: the template editor's live preview follows typing, shows errors by line, and saves versions."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from outreach.models import EmailTemplate
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_live_preview_renders_as_you_type_and_saving_makes_versions(admin_user, login, page):
    base = login("admin", PASSWORD)
    page.goto(f"{base}/outreach/templates/new/")
    page.get_by_label("Name").fill("Pitch")
    page.get_by_label("Subject").fill("Hello {{ contact.first_name }}")
    page.get_by_label("Text body").fill("Dear {{ contact.name }},\nsee {{ target_page.url }}")
    preview = page.locator("#preview")
    expect(preview.locator("[data-preview-subject]")).to_have_text("Hello Jane")
    expect(preview.locator("[data-preview-text]")).to_contain_text("https://acme.example.com/guide/")

    page.get_by_label("Text body").fill("Dear {{ contact.name }},\n{{ contact.nmae }}")
    expect(preview.locator('[data-part="text"][data-line="2"]')).to_contain_text("nmae")

    page.get_by_label("Text body").fill("Dear {{ contact.name }}")
    page.get_by_role("button", name="Save").click()
    expect(page.locator('[data-version="1"]')).to_be_visible()
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Text body").fill("Dear {{ contact.first_name }}")
    page.get_by_role("button", name="Save").click()
    expect(page.locator('[data-version="2"]')).to_contain_text("Version 2")
    assert EmailTemplate.objects.get(name="Pitch").versions.count() == 2
