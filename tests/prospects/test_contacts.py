"""Contacts: the services' rules (valid, not suppressed, unique, one primary), bounces, pages, the task."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django_q.conf import Conf
from django_q.models import OrmQ

from prospects.choices import ContactSource, EmailStatus
from prospects.models import Contact, Prospect, Suppression
from prospects.services.contacts import (
    ContactDuplicate,
    ContactInvalid,
    ContactSuppressed,
    contact_add,
    contact_delete,
    contact_mark_bounced,
    contact_set_primary,
    contact_update,
    discovery_group,
)
from prospects.services.projects import project_create
from prospects.services.suppression import suppression_add

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(manager, alice):
    return project_create(name="Shop", created_by=manager, members=[alice])


@pytest.fixture
def prospect(shop) -> Prospect:
    return Prospect.objects.create(project=shop, domain="northwind-gear.com")


def emails(prospect: Prospect) -> list[tuple[str, bool]]:
    return [(c.email, c.is_primary) for c in Contact.objects.filter(prospect=prospect).order_by("email")]


# --- the rules -----------------------------------------------------------------------------


def test_addresses_are_stored_lower_case_and_the_first_becomes_primary(prospect):
    first = contact_add(prospect=prospect, email=" Jane@Northwind-Gear.COM ", name="Jane", role="Editor")
    contact_add(prospect=prospect, email="info@northwind-gear.com")
    assert (first.email, first.name, first.role, first.source) == (
        "jane@northwind-gear.com", "Jane", "Editor", ContactSource.MANUAL)
    assert emails(prospect) == [("info@northwind-gear.com", False), ("jane@northwind-gear.com", True)]


@pytest.mark.parametrize("bad", ["", "jane", "jane@", "@northwind-gear.com", "jane doe@x.com", "a@b@c.com"])
def test_an_invalid_address_is_refused(prospect, bad):
    with pytest.raises(ContactInvalid):
        contact_add(prospect=prospect, email=bad)
    assert not Contact.objects.exists()


def test_the_same_address_twice_on_a_prospect_is_refused_in_any_case(prospect, shop):
    contact_add(prospect=prospect, email="jane@northwind-gear.com")
    with pytest.raises(ContactDuplicate) as duplicate:
        contact_add(prospect=prospect, email="JANE@northwind-gear.com")
    assert duplicate.value.existing.email == "jane@northwind-gear.com"
    other = Prospect.objects.create(project=shop, domain="other.com")
    contact_add(prospect=other, email="jane@northwind-gear.com")  # another prospect may share it
    assert Contact.objects.count() == 2


@pytest.mark.parametrize(
    "listed, scope",
    [("jane@northwind-gear.com", "project"), ("northwind-gear.com", "project"),
     ("JANE@northwind-gear.com", "global"), ("mail.northwind-gear.com", "global")],
)
def test_a_suppressed_address_or_domain_is_refused(prospect, listed, scope):
    suppression_add(project=prospect.project if scope == "project" else None, value=listed)
    with pytest.raises(ContactSuppressed, match="do-not-contact") as refused:
        contact_add(prospect=prospect, email="jane@northwind-gear.com")
    assert refused.value.suppression.value == listed.lower().removeprefix("mail.")
    assert not Contact.objects.exists()


def test_another_projects_list_does_not_block(prospect, bob):
    blog = project_create(name="Blog", created_by=None, members=[bob])
    suppression_add(project=blog, value="northwind-gear.com")
    contact_add(prospect=prospect, email="jane@northwind-gear.com")
    assert Contact.objects.count() == 1


def test_make_primary_takes_the_role_from_the_old_primary(prospect):
    contact_add(prospect=prospect, email="a@northwind-gear.com")
    contact_add(prospect=prospect, email="b@northwind-gear.com", make_primary=True)
    assert emails(prospect) == [("a@northwind-gear.com", False), ("b@northwind-gear.com", True)]


def test_set_primary_leaves_exactly_one(prospect):
    contact_add(prospect=prospect, email="a@northwind-gear.com")
    b = contact_add(prospect=prospect, email="b@northwind-gear.com")
    contact_add(prospect=prospect, email="c@northwind-gear.com")
    contact_set_primary(contact_id=b.pk)
    assert [e for e, primary in emails(prospect) if primary] == ["b@northwind-gear.com"]


def test_deleting_the_primary_promotes_another(prospect):
    a = contact_add(prospect=prospect, email="a@northwind-gear.com")
    contact_add(prospect=prospect, email="c@northwind-gear.com")
    contact_add(prospect=prospect, email="b@northwind-gear.com")
    assert contact_delete(contact_id=a.pk) is True
    assert emails(prospect) == [("b@northwind-gear.com", True), ("c@northwind-gear.com", False)]
    assert contact_delete(contact_id=a.pk) is False


def test_an_update_rechecks_a_changed_address(prospect):
    jane = contact_add(prospect=prospect, email="jane@northwind-gear.com", email_status=EmailStatus.VALID)
    contact_add(prospect=prospect, email="info@northwind-gear.com")
    suppression_add(project=None, value="blocked@northwind-gear.com")
    refusals = [("info@northwind-gear.com", ContactDuplicate),
                ("blocked@northwind-gear.com", ContactSuppressed), ("nope", ContactInvalid)]
    for bad, error in refusals:
        with pytest.raises(error):
            contact_update(contact_id=jane.pk, email=bad)
    updated = contact_update(contact_id=jane.pk, email="Jane.Doe@northwind-gear.com", name="Jane Doe")
    assert (updated.email, updated.name, updated.email_status) == (
        "jane.doe@northwind-gear.com", "Jane Doe", EmailStatus.UNKNOWN)
    same = contact_update(contact_id=jane.pk, role="Editor")  # no email given: the address is kept
    assert (same.email, same.role) == ("jane.doe@northwind-gear.com", "Editor")


def test_a_bounce_marks_every_copy_of_the_address_and_can_suppress_it(prospect, shop, bob):
    other = Prospect.objects.create(project=shop, domain="second.com")
    blog = project_create(name="Blog", created_by=None, members=[bob])
    elsewhere = Prospect.objects.create(project=blog, domain="third.com")
    for target in (prospect, other, elsewhere):
        contact_add(prospect=target, email="jane@northwind-gear.com")
    assert contact_mark_bounced(email="JANE@northwind-gear.com", project=shop) == 2
    assert Contact.objects.get(prospect=elsewhere).email_status == EmailStatus.UNKNOWN
    assert contact_mark_bounced(email="jane@northwind-gear.com", suppress=True) == 1
    entry = Suppression.objects.get()
    assert (entry.project, entry.value, entry.reason) == (None, "jane@northwind-gear.com", "Hard bounce")


# --- pages -----------------------------------------------------------------------------------


def test_members_see_a_prospects_contacts_and_others_do_not(prospect, alice, bob, client_for):
    contact_add(prospect=prospect, email="jane@northwind-gear.com", role="Editor")
    page = client_for(alice).get(f"/prospects/{prospect.pk}/contacts/").content.decode()
    assert "jane@northwind-gear.com" in page and "primary" in page
    assert client_for(bob).get(f"/prospects/{prospect.pk}/contacts/").status_code == 404
    contact = Contact.objects.get()
    for action in ("edit", "delete", "primary"):
        url = f"/contacts/{contact.pk}/{action}/"
        assert client_for(bob).post(url, {"email": "x@y.com"}).status_code == 404
    assert Contact.objects.get().email == "jane@northwind-gear.com"


def test_adding_on_the_page_goes_back_to_a_safe_next(prospect, alice, client_for):
    client = client_for(alice)
    response = client.post(f"/prospects/{prospect.pk}/contacts/add/?next=/pipeline/",
                           {"email": "Jane@Northwind-Gear.com", "name": "Jane", "next": "/pipeline/"})
    assert response.status_code == 302 and response["Location"] == "/pipeline/"
    response = client.post(f"/prospects/{prospect.pk}/contacts/add/",
                           {"email": "info@northwind-gear.com", "next": "https://evil.example/"})
    assert response["Location"] == f"/prospects/{prospect.pk}/contacts/"
    assert [e for e, _ in emails(prospect)] == ["info@northwind-gear.com", "jane@northwind-gear.com"]


def test_the_page_explains_a_refused_address(prospect, alice, client_for):
    suppression_add(project=None, value="northwind-gear.com")
    url = f"/prospects/{prospect.pk}/contacts/add/"
    response = client_for(alice).post(url, {"email": "x@northwind-gear.com"})
    assert response.status_code == 200
    assert "global do-not-contact list" in response.content.decode()
    assert not Contact.objects.exists()


def test_edit_delete_and_primary_from_the_page(prospect, alice, client_for):
    client = client_for(alice)
    a = contact_add(prospect=prospect, email="a@northwind-gear.com")
    b = contact_add(prospect=prospect, email="b@northwind-gear.com")
    client.post(f"/contacts/{b.pk}/edit/", {"email": "b@northwind-gear.com", "name": "Bea", "role": "Editor"})
    client.post(f"/contacts/{b.pk}/primary/")
    assert emails(prospect) == [("a@northwind-gear.com", False), ("b@northwind-gear.com", True)]
    assert client.get(f"/contacts/{a.pk}/delete/").status_code == 405  # deleting needs a POST
    client.post(f"/contacts/{a.pk}/delete/")
    left = [(c.email, c.name, c.role) for c in Contact.objects.all()]
    assert left == [("b@northwind-gear.com", "Bea", "Editor")]


def test_the_fragment_renders_with_just_a_prospect_and_its_contacts(prospect, alice):
    contact_add(prospect=prospect, email="jane@northwind-gear.com")
    request = RequestFactory().get("/prospects/1/")
    request.user = alice
    html = render_to_string("prospects/_contacts.html",
                            {"prospect": prospect, "contacts": prospect.contacts.all()}, request=request)
    assert "jane@northwind-gear.com" in html
    assert f'action="/prospects/{prospect.pk}/contacts/discover/"' in html
    assert 'name="next" value="/prospects/1/"' in html


# --- discovery as a task -----------------------------------------------------------------------


def test_discover_queues_one_task_only_when_the_request_commits(prospect, alice, client_for,
                                                               django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for(alice).post(f"/prospects/{prospect.pk}/contacts/discover/")
        assert OrmQ.objects.count() == 0  # nothing queued before the commit
    assert response.status_code == 302
    for callback in callbacks:
        callback()
    queued = OrmQ.objects.get()
    assert (queued.func(), queued.args(), queued.group()) == (
        "prospects.tasks.contacts_discover_task", (prospect.pk,), discovery_group(prospect.pk))


def test_discover_needs_a_post_and_membership(prospect, bob, alice, client_for):
    assert client_for(alice).get(f"/prospects/{prospect.pk}/contacts/discover/").status_code == 405
    assert client_for(bob).post(f"/prospects/{prospect.pk}/contacts/discover/").status_code == 404
    assert OrmQ.objects.count() == 0


def test_a_finished_run_shows_on_the_contacts_page(prospect, alice, client_for, monkeypatch,
                                                  django_capture_on_commit_callbacks):
    # The prospect's domain is on the list, so the run ends before any fetch: no network here.
    suppression_add(project=None, value="northwind-gear.com")
    monkeypatch.setattr(Conf, "SYNC", True)  # async_task runs django-q2's worker code in-process
    client = client_for(alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/prospects/{prospect.pk}/contacts/discover/")
    page = client.get(f"/prospects/{prospect.pk}/contacts/").content.decode()
    assert "northwind-gear.com is on the do-not-contact list: its site was not visited." in page
    assert "Not run yet" not in page
