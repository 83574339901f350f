"""Django admin: templates saved through template_save (validated, versioned); mailbox passwords write-only."""

from __future__ import annotations

import pytest

from outreach.models import EmailTemplate
from tests.outreach.world import sandbox_mailbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(admin_user):
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    return admin_user


def template_form(**extra: str) -> dict:
    return {"name": "Intro", "subject": "Hi {{ contact.first_name }}", "text": "Hello {{ contact.name }}",
            "html": "", "versions-TOTAL_FORMS": "0", "versions-INITIAL_FORMS": "0", **extra}


def test_admin_saves_templates_through_the_service(staff, client_for):
    client = client_for(staff)
    assert client.post("/admin/outreach/emailtemplate/add/", template_form()).status_code == 302
    template = EmailTemplate.objects.get()
    assert (template.version, template.created_by) == (1, staff)
    url = f"/admin/outreach/emailtemplate/{template.pk}/change/"
    client.post(url, template_form(text="Changed {{ contact.name }}"))
    client.post(url, template_form(text="Changed {{ contact.name }}", name="Renamed"))
    template.refresh_from_db()
    assert (template.name, template.version, template.versions.count()) == ("Renamed", 2, 2)


def test_admin_refuses_an_invalid_template_with_its_line(staff, client_for):
    response = client_for(staff).post("/admin/outreach/emailtemplate/add/", template_form(text="a\n{{ nope }}"))
    assert response.status_code == 200 and "line 2" in response.content.decode()
    assert not EmailTemplate.objects.exists()


def test_admin_never_shows_a_mailbox_password_and_blank_keeps_it(stack, staff, client_for):
    mailbox = sandbox_mailbox(stack, staff)
    mailbox.set_smtp_password("Distinctive-Pw-123")
    mailbox.save()
    client = client_for(staff)
    url = f"/admin/outreach/mailbox/{mailbox.pk}/change/"
    page = client.get(url).content.decode()
    assert "Distinctive-Pw-123" not in page and mailbox.smtp_password not in page
    assert 'name="smtp_password_new"' in page
    form = {name: getattr(mailbox, name) for name in ("name", "email", "from_name", "signature", "smtp_host",
            "smtp_port", "smtp_security", "smtp_username", "imap_host", "imap_port", "imap_username",
            "sent_folder", "daily_cap", "min_gap_seconds", "gap_jitter_seconds", "timezone")}
    form.update(owner=staff.pk, watch_folders='["INBOX"]', window_days="[0, 1, 2]", window_start="08:00",
                window_end="16:00", smtp_password_new="", imap_password_new="")
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[-3000:]
    mailbox.refresh_from_db()
    assert (mailbox.window_days, mailbox.get_smtp_password()) == ([0, 1, 2], "Distinctive-Pw-123")
