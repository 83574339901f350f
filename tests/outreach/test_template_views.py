"""Templates: admins edit through template_save (versions only on text changes), staff read and preview."""

from __future__ import annotations

import pytest

from outreach.models import EmailTemplate, TemplateVersion
from outreach.services.templates import TemplateInvalid, template_save
from tests.outreach.world import make_project, prospect_with_contact

pytestmark = pytest.mark.django_db

GOOD = {"name": "Intro", "subject": "Hi {{ contact.first_name | default('there') }}",
        "text": "Hello {{ contact.name }},\nyour page {{ prospect.url }} is great.\n", "html": ""}


def test_an_admin_creates_a_template_as_version_one(admin_user, client_for):
    response = client_for(admin_user).post("/outreach/templates/new/", GOOD)
    template = EmailTemplate.objects.get(name="Intro")
    assert response.status_code == 302
    assert template.version == 1
    assert list(template.versions.values_list("number", "subject")) == [(1, GOOD["subject"])]


def test_changing_the_text_makes_a_new_version_and_renaming_does_not(admin_user, client_for):
    client = client_for(admin_user)
    client.post("/outreach/templates/new/", GOOD)
    template = EmailTemplate.objects.get(name="Intro")
    client.post(f"/outreach/templates/{template.pk}/edit/", {**GOOD, "text": "Shorter, {{ contact.name }}."})
    client.post(f"/outreach/templates/{template.pk}/edit/", {**GOOD, "name": "Intro v2",
                                                              "text": "Shorter, {{ contact.name }}."})
    template.refresh_from_db()
    assert (template.name, template.version) == ("Intro v2", 2)
    assert list(template.versions.order_by("number").values_list("number", "text")) == [
        (1, GOOD["text"]), (2, "Shorter, {{ contact.name }}."),
    ]
    page = client.get(f"/outreach/templates/{template.pk}/").content.decode()
    assert 'data-version="1"' in page and 'data-version="2"' in page and "your page" in page


def test_an_invalid_template_is_not_saved_and_errors_name_part_and_line(admin_user, client_for):
    client = client_for(admin_user)
    response = client.post("/outreach/templates/new/", {**GOOD, "text": "Hello\n{{ contact.nmae }}\n"})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-part="text" data-line="2"' in page and "nmae" in page
    assert not EmailTemplate.objects.exists() and not TemplateVersion.objects.exists()


def test_outreach_staff_may_read_and_preview_but_not_edit(admin_user, alice, client_for):
    template = template_save(template=None, by=admin_user, **GOOD)
    client = client_for(alice)
    assert client.get(f"/outreach/templates/{template.pk}/").status_code == 200
    assert client.get("/outreach/templates/new/").status_code == 403
    assert client.post(f"/outreach/templates/{template.pk}/edit/", {**GOOD, "text": "x"}).status_code == 403
    assert client.post("/outreach/templates/preview/", GOOD).status_code == 200
    template.refresh_from_db()
    assert template.version == 1


def test_the_preview_renders_against_the_sample_context(alice, client_for):
    page = client_for(alice).post("/outreach/templates/preview/", GOOD).content.decode()
    assert "Hi Jane" in page and "https://example.org/resources/" in page
    assert "data-preview-ok" in page


def test_the_preview_shows_errors_by_part_and_line(alice, client_for):
    data = {**GOOD, "subject": "{{ oops", "text": "a\nb\n{{ 1 / 0 }}"}
    page = client_for(alice).post("/outreach/templates/preview/", data).content.decode()
    assert 'data-part="subject" data-line="1"' in page
    assert 'data-part="text" data-line="3"' in page


def test_the_preview_renders_a_chosen_prospects_real_context(alice, bob, client_for):
    project = make_project("Shop", alice)
    prospect, contact = prospect_with_contact(project, "realblog.com", by=alice, name="Rita Real")
    page = client_for(alice).post("/outreach/templates/preview/", {**GOOD, "prospect": prospect.pk}).content.decode()
    assert "realblog.com" in page
    # Someone else's project: not found, never rendered.
    assert client_for(bob).post("/outreach/templates/preview/", {**GOOD, "prospect": prospect.pk}).status_code == 404


def test_template_save_refuses_a_duplicate_name(admin_user):
    template_save(template=None, by=admin_user, **GOOD)
    with pytest.raises(TemplateInvalid, match="exists"):
        template_save(template=None, by=admin_user, **GOOD)
    assert EmailTemplate.objects.count() == 1 and TemplateVersion.objects.count() == 1


def test_an_archived_template_is_not_offered_for_steps(admin_user, manager, alice, client_for):
    template = template_save(template=None, by=admin_user, **GOOD)
    assert client_for(alice).post(f"/outreach/templates/{template.pk}/archive/", {"archived": "1"}).status_code == 403
    client_for(admin_user).post(f"/outreach/templates/{template.pk}/archive/", {"archived": "1"})
    template.refresh_from_db()
    assert template.archived
    assert f'<option value="{template.pk}">' not in client_for(manager).get("/outreach/sequences/new/").content.decode()
