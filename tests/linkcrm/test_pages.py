"""The base layout: navigation by role, error pages, no asset from outside."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


def test_navigation_shows_admin_only_to_admins(cast, client_for):
    assert ">Admin<" not in client_for(cast["manager"]).get("/").content.decode()
    page = client_for(cast["admin"]).get("/").content.decode()
    for label in ("Projects", "Pipeline", "Outreach", "Audit", "Reports", "Admin"):
        assert f">{label}<" in page


def test_every_asset_of_the_layout_is_served_by_us(alice, client_for):
    html = client_for(alice).get("/").content.decode()
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert any(u.endswith(".js") and "htmx" in u for u in urls), "htmx comes from django-htmx's static files"
    assert not [u for u in urls if u.startswith(("http:", "https:", "//"))]
    for url in (u for u in urls if u.startswith("/static/")):
        assert client_for(alice).get(url).status_code == 200, url


def test_unknown_pages_get_the_404_page(alice, client_for):
    response = client_for(alice).get("/no/such/page/")
    assert response.status_code == 404
    assert "Not found" in response.content.decode()


def test_forbidden_pages_say_so(alice, client_for):
    response = client_for(alice).get("/users/")
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()


def test_login_page_logs_in_and_logout_needs_post(alice, client):
    response = client.post("/login/", {"username": "alice", "password": "correct-horse-battery-staple"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert client.get("/logout/").status_code == 405
    client.post("/logout/")
    assert client.get("/").status_code == 302


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(alice, client):
    page = client.post("/login/", {"username": "alice", "password": "nope"}).content.decode()
    assert "Please enter a correct username and password" in page


def test_the_board_of_a_project_highlights_pipeline_not_projects(alice, client_for):
    from prospects.services.projects import project_create

    project = project_create(name="Board nav", created_by=None, members=[alice])
    page = client_for(alice).get(f"/projects/{project.pk}/board/").content.decode()
    assert 'class="active" aria-current="page">Pipeline<' in page
    assert 'aria-current="page">Projects<' not in page
    page = client_for(alice).get(f"/projects/{project.pk}/").content.decode()
    assert 'class="active" aria-current="page">Projects<' in page
