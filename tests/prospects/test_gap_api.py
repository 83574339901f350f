"""The gap API: rows and filters, prospects from rows, import, competitors, target pages, settings."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from prospects.models import Project, Prospect
from prospects.services.projects import project_add_member
from tests.prospects import gap_world

pytestmark = pytest.mark.django_db
FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "gap" / "ahrefs-link-intersect.csv"


@pytest.fixture
def world(cast) -> gap_world.World:
    project = Project.objects.create(name="Shop")
    project_add_member(project=project, user=cast["alice"], added_by=None)
    return gap_world.build(project)


def api(world: gap_world.World, suffix: str) -> str:
    return f"/api/projects/{world.project.pk}/{suffix}"


def post(client, path: str, data: dict):
    return client.post(path, data, content_type="application/json")


def patch(client, path: str, data: dict):
    return client.patch(path, data, content_type="application/json")


def test_gap_rows_with_counts_sites_and_links_per_site(world, cast, client_for):
    response = client_for(cast["alice"]).get(api(world, "gap/"), {"tab": "missing", "min_competitors": 1,
                                                                  "sort": "domain", "per_page": 2, "page": 2})
    body = response.json()
    assert response.status_code == 200
    assert (body["count"], body["page"], body["num_pages"], body["tab"]) == (5, 2, 3, "missing")
    assert body["counts"]["best"] == 2 and body["counts"]["all"] == 7  # min_competitors applies to all
    assert body["sites"] == [
        {"id": world.shop.id, "domain": "shop.com", "role": "you"},
        {"id": world.alpha.id, "domain": "alpha.com", "role": "competitor"},
        {"id": world.beta.id, "domain": "beta.com", "role": "competitor"},
    ]
    assert [row["domain"] for row in body["results"]] == ["lost.org", "nf.net"]
    assert body["results"][1] == {
        "domain": "nf.net", "authority": 60, "competitors_linked": 1, "links_to_you": None, "links": 4,
        "follow": 0, "first_seen": "2025-01-01", "tld": "net", "country": "", "is_prospect": False,
        "sites": {"beta.com": 4},
    }  # fmt: skip


def test_bad_query_parameters_are_a_400(world, cast, client_for):
    response = client_for(cast["alice"]).get(api(world, "gap/"), {"tab": "nope", "authority_min": "x"})
    assert response.status_code == 400 and set(response.json()) == {"tab", "authority_min"}


def test_members_only(world, cast, client_for):
    for path in ("gap/", "gap/export/", "competitors/", "target-pages/", "settings/"):
        assert client_for(cast["bob"]).get(api(world, path)).status_code == 404, path
        assert client_for(cast["outsider"]).get(api(world, path)).status_code == 403, path
        assert client_for(cast["alice"]).get(api(world, path)).status_code == 200, path


def test_export_as_csv(world, cast, client_for):
    response = client_for(cast["alice"]).get(api(world, "gap/export/"), {"tab": "best", "show_toxic": "on"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == ["toxic.org", "best2.org", "best1.org"]


def test_prospects_from_rows_with_the_report(world, cast, client_for):
    domains = ["best1.org", "best1.org", "nowhere.org"]
    response = post(client_for(cast["alice"]), api(world, "gap/prospects/"), {"domains": domains})
    body = response.json()
    assert response.status_code == 201
    assert (body["created"], body["duplicates"], body["not_in_gap"]) == (1, ["best1.org"], ["nowhere.org"])
    assert Prospect.objects.get(id=body["created_ids"][0]).domain == "best1.org"


def test_prospects_from_a_filter_need_a_manager(world, cast, client_for):
    payload = {"filters": {"tab": "best", "show_toxic": "on"}}
    path = api(world, "gap/prospects-from-filter/")
    assert post(client_for(cast["alice"]), path, payload).status_code == 403
    response = post(client_for(cast["manager"]), path, payload)
    assert response.status_code == 201 and response.json()["created"] == 3
    payload["filters"]["show_prospects"] = "on"
    again = post(client_for(cast["manager"]), path, payload)
    assert again.status_code == 200 and again.json()["duplicates"] == ["best1.org", "best2.org", "toxic.org"]


def test_import_a_gap_export(world, cast, client_for):
    upload = SimpleUploadedFile("intersect.csv", FIXTURE.read_bytes(), content_type="text/csv")
    assert client_for(cast["alice"]).post(api(world, "gap/import/"), {"file": upload}).status_code == 403
    upload.seek(0)
    response = client_for(cast["manager"]).post(api(world, "gap/import/"), {"file": upload})
    assert response.status_code == 201
    assert response.json()["linking"] == {"alpha.com": 3, "beta.com": 3, "shop.com": 2}


def test_a_refused_import_is_a_400_with_the_line(world, cast, client_for):
    upload = SimpleUploadedFile("x.csv", b"Domain,DR\nexample.org,3\n", content_type="text/csv")
    response = client_for(cast["manager"]).post(api(world, "gap/import/"), {"file": upload})
    assert response.status_code == 400 and response.json()["line"] == 1


def test_competitors_list_add_remove(world, cast, client_for):
    manager = client_for(cast["manager"])
    assert [c["domain"] for c in manager.get(api(world, "competitors/")).json()] == ["alpha.com", "beta.com"]
    domains = [f"rival{n}.com" for n in range(6)] + ["alpha.com", "shop.com", "org.br"]
    added = post(manager, api(world, "competitors/"), {"domains": domains}).json()
    assert added["added"] == [f"rival{n}.com" for n in range(6)] and added["already"] == ["alpha.com"]
    assert [value for value, _ in added["refused"]] == ["shop.com", "org.br"]
    assert client_for(cast["alice"]).delete(api(world, f"competitors/{world.alpha.id}/")).status_code == 403
    assert manager.delete(api(world, f"competitors/{world.alpha.id}/")).status_code == 204
    assert manager.delete(api(world, f"competitors/{world.alpha.id}/")).status_code == 404
    assert len(manager.get(api(world, "competitors/")).json()) == 7


def test_target_pages(world, cast, client_for):
    manager = client_for(cast["manager"])
    created = manager.post(api(world, "target-pages/"), {"url": "https://shop.com/boots/", "label": "Boots"})
    assert created.status_code == 201 and created.json()["label"] == "Boots"
    refused = manager.post(api(world, "target-pages/"), {"url": "https://elsewhere.com/"})
    assert refused.status_code == 400 and "not a page of shop.com" in refused.json()["detail"]
    assert manager.post(api(world, "target-pages/"), {"url": "https://shop.com/boots/"}).status_code == 400
    assert [p["url"] for p in client_for(cast["alice"]).get(api(world, "target-pages/")).json()] == [
        "https://shop.com/boots/"
    ]
    assert manager.delete(api(world, f"target-pages/{created.json()['id']}/")).status_code == 204


def test_settings_read_by_members_changed_by_managers(world, cast, client_for):
    assert client_for(cast["alice"]).get(api(world, "settings/")).json() == {
        "site": "shop.com", "brand_terms": [], "keywords": [],
        "score_weights": {"authority": 30, "competitors": 25, "freshness": 10, "follow": 10, "relevance": 15,
                          "spam": 10},
    }  # fmt: skip
    change = {"keywords": ["hiking", "Hiking", " tents "], "brand_terms": ["Shop"]}
    assert patch(client_for(cast["alice"]), api(world, "settings/"), change).status_code == 403
    body = patch(client_for(cast["manager"]), api(world, "settings/"), change).json()
    assert (body["keywords"], body["brand_terms"]) == (["hiking", "tents"], ["Shop"])
    assert body["site"] == "shop.com"


def test_settings_are_all_or_nothing(world, cast, client_for):
    change = {"keywords": ["new"], "site": "alpha.com"}  # alpha.com is a competitor: refused
    response = patch(client_for(cast["manager"]), api(world, "settings/"), change)
    assert response.status_code == 400 and "competitor" in response.json()["detail"]
    world.project.refresh_from_db()
    assert world.project.keywords == [] and world.project.site == world.shop
