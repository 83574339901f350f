"""Projects and their membership: outreach staff see only their projects; managers all."""

from __future__ import annotations

import pytest

from prospects.models import Project
from prospects.services.projects import project_add_member, project_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def projects(cast):
    shop = project_create(name="Shop", created_by=cast["manager"], members=[cast["alice"]])
    blog = project_create(name="Blog", created_by=cast["manager"], members=[cast["bob"]])
    return {"shop": shop, "blog": blog}


def test_outreach_staff_see_only_projects_they_are_members_of(projects, cast, client_for):
    page = client_for(cast["alice"]).get("/projects/").content.decode()
    assert "Shop" in page and "Blog" not in page
    assert client_for(cast["alice"]).get(f"/projects/{projects['blog'].pk}/").status_code == 404
    assert client_for(cast["alice"]).get(f"/projects/{projects['shop'].pk}/").status_code == 200


def test_managers_see_every_project(projects, cast, client_for):
    page = client_for(cast["manager"]).get("/projects/").content.decode()
    assert "Shop" in page and "Blog" in page


def test_a_manager_creates_a_project_and_becomes_a_member(cast, client_for):
    response = client_for(cast["manager"]).post("/projects/new/", {"name": "New site", "description": ""})
    project = Project.objects.get(name="New site")
    assert response.status_code == 302
    assert list(project.members.all()) == [cast["manager"]]


def test_a_manager_sets_members(projects, cast, client_for):
    shop = projects["shop"]
    client_for(cast["manager"]).post(f"/projects/{shop.pk}/members/", {"members": [cast["bob"].pk]})
    assert list(shop.members.all()) == [cast["bob"]]
    assert client_for(cast["alice"]).get(f"/projects/{shop.pk}/").status_code == 404


def test_adding_a_member_twice_is_harmless(projects, cast):
    assert project_add_member(project=projects["shop"], user=cast["alice"], added_by=None) is False
    assert projects["shop"].memberships.count() == 1


def test_api_lists_only_visible_projects(projects, cast, client_for):
    names = [p["name"] for p in client_for(cast["alice"]).get("/api/projects/").json()["results"]]
    assert names == ["Shop"]
    assert client_for(cast["alice"]).get(f"/api/projects/{projects['blog'].pk}/").status_code == 404


def test_api_project_creation_needs_a_manager(cast, client_for):
    assert client_for(cast["alice"]).post("/api/projects/", {"name": "X"}).status_code == 403
    response = client_for(cast["manager"]).post("/api/projects/", {"name": "X"})
    assert response.status_code == 201
    assert response.json()["members"] == ["manager"]


def test_api_sets_members_by_username_and_rejects_unknown_names(projects, cast, client_for):
    client = client_for(cast["manager"])
    url = f"/api/projects/{projects['shop'].pk}/members/"
    response = client.put(url, {"usernames": ["bob", "alice"]}, content_type="application/json")
    assert sorted(response.json()["members"]) == ["alice", "bob"]
    response = client.put(url, {"usernames": ["nobody"]}, content_type="application/json")
    assert response.status_code == 400
    assert "nobody" in response.json()["usernames"][0]


def test_the_project_page_leads_to_its_gap_board_and_do_not_contact_list(projects, cast, client_for):
    shop = projects["shop"]
    page = client_for(cast["alice"]).get(f"/projects/{shop.pk}/").content.decode()
    for target in (f"/projects/{shop.pk}/gap/", f"/projects/{shop.pk}/board/", f"/projects/{shop.pk}/do-not-contact/"):
        assert f'href="{target}"' in page
