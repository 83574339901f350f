"""Contacts and do-not-contact over the API: membership-scoped reads, service-checked writes, roles."""

from __future__ import annotations

import pytest
from django_q.models import OrmQ

from prospects.models import Contact, Prospect, Suppression
from prospects.services.contacts import contact_add
from prospects.services.projects import project_create
from prospects.services.suppression import suppression_add

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(manager, alice, bob):
    shop = project_create(name="Shop", created_by=manager, members=[alice])
    blog = project_create(name="Blog", created_by=manager, members=[bob])
    ours = Prospect.objects.create(project=shop, domain="northwind-gear.com")
    theirs = Prospect.objects.create(project=blog, domain="other.com")
    return {"shop": shop, "blog": blog, "ours": ours, "theirs": theirs}


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


# --- contacts --------------------------------------------------------------------------------


def test_contacts_are_listed_only_for_the_callers_projects(world, alice, client_for):
    contact_add(prospect=world["ours"], email="jane@northwind-gear.com")
    contact_add(prospect=world["theirs"], email="x@other.com")
    client = client_for(alice)
    assert [c["email"] for c in client.get("/api/contacts/").json()["results"]] == ["jane@northwind-gear.com"]
    assert client.get(f"/api/contacts/?prospect={world['theirs'].pk}").json()["results"] == []
    assert client.get("/api/contacts/?prospect=abc").status_code == 400
    theirs = Contact.objects.get(email="x@other.com")
    assert client.get(f"/api/contacts/{theirs.pk}/").status_code == 404


def test_creating_a_contact_goes_through_the_checks(world, alice, client_for):
    client = client_for(alice)
    url = "/api/contacts/"
    ours = world["ours"].pk
    response = post(client, url, {"prospect": ours, "email": "Jane@Northwind-Gear.com", "role": "Editor"})
    assert response.status_code == 201
    assert (response.json()["email"], response.json()["is_primary"]) == ("jane@northwind-gear.com", True)
    duplicate = post(client, url, {"prospect": world["ours"].pk, "email": "JANE@northwind-gear.com"})
    assert duplicate.status_code == 400 and "already a contact" in duplicate.json()["email"][0]
    assert post(client, url, {"prospect": world["ours"].pk, "email": "nope"}).status_code == 400
    suppression_add(project=world["shop"], value="blocked@northwind-gear.com")
    blocked = post(client, url, {"prospect": world["ours"].pk, "email": "blocked@northwind-gear.com"})
    assert blocked.status_code == 400 and "do-not-contact" in blocked.json()["email"][0]
    assert post(client, url, {"prospect": world["theirs"].pk, "email": "a@other.com"}).status_code == 404
    assert Contact.objects.count() == 1


def test_source_and_status_cannot_be_set_by_the_caller(world, alice, client_for):
    response = post(client_for(alice), "/api/contacts/", {
        "prospect": world["ours"].pk, "email": "a@northwind-gear.com", "source": "discovered",
        "source_url": "javascript:alert(1)", "email_status": "valid",
    })
    contact = Contact.objects.get(pk=response.json()["id"])
    assert (contact.source, contact.source_url, contact.email_status) == ("manual", "", "unknown")


def test_patch_delete_and_primary(world, alice, bob, client_for):
    a = contact_add(prospect=world["ours"], email="a@northwind-gear.com")
    b = contact_add(prospect=world["ours"], email="b@northwind-gear.com")
    client = client_for(alice)
    response = client.patch(f"/api/contacts/{b.pk}/", {"name": "Bea"}, content_type="application/json")
    assert response.json()["name"] == "Bea" and response.json()["email"] == "b@northwind-gear.com"
    clash = client.patch(f"/api/contacts/{b.pk}/", {"email": "A@northwind-gear.com"},
                         content_type="application/json")
    assert clash.status_code == 400
    assert post(client, f"/api/contacts/{b.pk}/primary/", {}).json()["is_primary"] is True
    assert Contact.objects.get(pk=a.pk).is_primary is False
    assert client_for(bob).delete(f"/api/contacts/{a.pk}/").status_code == 404
    assert client.delete(f"/api/contacts/{a.pk}/").status_code == 204
    assert list(Contact.objects.values_list("email", flat=True)) == ["b@northwind-gear.com"]


def test_discover_is_queued_on_commit(world, alice, client_for, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client_for(alice), "/api/contacts/discover/", {"prospect": world["ours"].pk})
        denied = post(client_for(alice), "/api/contacts/discover/", {"prospect": world["theirs"].pk})
    assert (response.status_code, denied.status_code) == (202, 404)
    assert [q.args() for q in OrmQ.objects.all()] == [(world["ours"].pk,)]


# --- do-not-contact --------------------------------------------------------------------------


def test_entries_are_listed_for_the_callers_projects_and_globally(world, alice, client_for):
    suppression_add(project=None, value="global.com")
    suppression_add(project=world["shop"], value="ours.com")
    suppression_add(project=world["blog"], value="theirs.com")
    client = client_for(alice)

    def values(query: str = "") -> list[str]:
        return [e["value"] for e in client.get(f"/api/suppressions/{query}").json()["results"]]

    assert values() == ["global.com", "ours.com"]
    assert values("?project=global") == ["global.com"]
    assert values(f"?project={world['shop'].pk}") == ["ours.com"]
    assert values(f"?project={world['blog'].pk}") == []


def test_members_add_to_their_project_and_only_managers_to_the_global_list(world, alice, manager, client_for):
    url = "/api/suppressions/"
    shop = world["shop"].pk
    created = post(client_for(alice), url, {"project": shop, "value": "Jane@Shop.com", "reason": "x"})
    assert created.status_code == 201 and created.json()["value"] == "jane@shop.com"
    assert post(client_for(alice), url, {"project": shop, "value": "jane@shop.com"}).status_code == 200
    assert post(client_for(alice), url, {"project": world["blog"].pk, "value": "a.com"}).status_code == 404
    assert post(client_for(alice), url, {"value": "a.com"}).status_code == 403
    assert post(client_for(alice), url, {"project": shop, "value": "co.uk"}).status_code == 400
    assert post(client_for(manager), url, {"project": None, "value": "a.com"}).status_code == 201
    assert sorted(Suppression.objects.values_list("value", flat=True)) == ["a.com", "jane@shop.com"]


def test_only_managers_delete_entries(world, alice, manager, client_for):
    entry, _ = suppression_add(project=world["shop"], value="shop.com")
    assert client_for(alice).delete(f"/api/suppressions/{entry.pk}/").status_code == 403
    assert client_for(manager).delete(f"/api/suppressions/{entry.pk}/").status_code == 204
    assert not Suppression.objects.exists()


def test_import_is_all_or_nothing_unless_told_otherwise(world, alice, client_for):
    url = "/api/suppressions/import/"
    body = {"project": world["shop"].pk, "text": "good.com\nbad@\nfine@x.com\n"}
    refused = post(client_for(alice), url, body)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["line"] == 2 and not Suppression.objects.exists()
    done = post(client_for(alice), url, {**body, "skip_invalid": True})
    assert done.status_code == 200 and done.json()["added"] == 2


def test_check_answers_whether_an_address_may_be_contacted(world, alice, client_for):
    suppression_add(project=world["shop"], value="shop.com", reason="client asked")
    client = client_for(alice)
    url = "/api/suppressions/check/?email=jane@blog.shop.com"
    blocked = client.get(f"{url}&project={world['shop'].pk}").json()
    assert blocked["suppressed"] is True
    assert (blocked["entry"]["value"], blocked["entry"]["reason"]) == ("shop.com", "client asked")
    assert client.get(url).json() == {"suppressed": False, "entry": None}  # no project: the global list only
    assert client.get(f"/api/suppressions/check/?project={world['blog'].pk}&email=x@y.com").status_code == 404


def test_the_schema_describes_the_new_endpoints(alice, client_for):
    schema = client_for(alice).get("/api/schema/?format=json").json()
    for path in ("/api/contacts/", "/api/contacts/discover/", "/api/contacts/{id}/primary/",
                 "/api/suppressions/", "/api/suppressions/import/", "/api/suppressions/check/"):
        assert path in schema["paths"], path
