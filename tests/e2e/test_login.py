"""A person logs in through the real login page in Chromium and sees the dashboard."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from prospects.services.projects import project_create
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_logging_in_shows_the_dashboard_with_my_projects(alice, login, page):
    project_create(name="Riverside Bakery", created_by=None, members=[alice])
    login("alice", PASSWORD)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_text("Riverside Bakery")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Pipeline")).to_be_visible()
    expect(page.get_by_role("link", name="Admin")).to_have_count(0)


def test_a_wrong_password_keeps_me_on_the_login_page(alice, login, page):
    login("alice", "wrong password")
    expect(page.get_by_text("Please enter a correct username and password")).to_be_visible()
    expect(page.get_by_role("heading", name="Dashboard")).to_have_count(0)


def test_logging_out_returns_to_the_login_page(alice, login, page):
    login("alice", PASSWORD)
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
