"""The demo's outreach: a sandbox mailbox, templates, a 3-step sequence, threads to show; idempotent."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from linkcrm.localstack.config import StackConfig
from outreach.choices import EnrollmentStatus, MessageKind, OutboxStatus, SmtpSecurity
from outreach.demo import DEMO_MAILBOX, DEMO_SEQUENCE, REMOVAL_SEQUENCE
from outreach.models import EmailTemplate, Enrollment, InboundMessage, Mailbox, OutboundMessage, Sequence
from outreach.rendering import sample_context, validate_template
from prospects.choices import Stage
from prospects.models import Contact, Project

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """Load once for the module (the demo takes seconds); the rows are read-only below."""
    with django_db_blocker.unblock():
        from linkcrm.choices import Role
        from linkcrm.services import user_create

        user_create(username="demo-admin", role=Role.ADMIN, email="a@example.test", password="x" * 12)
        call_command("load_demo", stdout=io.StringIO())
        yield Project.objects.get(is_demo=True)
        call_command("flush", interactive=False, verbosity=0)


def counts() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in (Mailbox, EmailTemplate, Sequence, Contact, Enrollment,
                                                     OutboundMessage, InboundMessage))


def test_the_demo_mailbox_points_at_the_local_sandbox(demo):
    stack = StackConfig.from_env()
    mailbox = Mailbox.objects.get(email=DEMO_MAILBOX)
    assert (mailbox.smtp_host, mailbox.smtp_port, mailbox.smtp_security) == ("127.0.0.1", stack.smtp_port,
                                                                             SmtpSecurity.PLAIN)
    assert (mailbox.imap_port, mailbox.imap_ssl, mailbox.server_saves_sent) == (stack.imap_port, False, True)
    assert mailbox.get_smtp_password() == stack.sandbox_password and mailbox.is_demo
    assert mailbox.owner.is_superuser


def test_the_demo_has_a_three_step_sequence_of_versioned_templates(demo):
    steps = Sequence.objects.get(name=DEMO_SEQUENCE).steps.order_by("position")
    assert [(s.position, s.delay_days) for s in steps] == [(1, 0), (2, 3), (3, 4)]
    assert all(s.template.version == 1 and s.template.versions.count() == 1 for s in steps)


def test_demo_threads_show_sent_mail_and_replies_needing_attention(demo):
    contacts = Contact.objects.filter(prospect__project=demo)
    assert contacts.count() >= 6 and all(c.email.endswith("@linkcrm.test") for c in contacts)
    assert contacts.filter(prospect__stage=Stage.TO_CONTACT, prospect__enrollments__isnull=True).exists()
    sent = OutboundMessage.objects.filter(status=OutboxStatus.SENT)
    assert sent.count() >= 4 and all(m.template_version_id and m.sent_at for m in sent)
    replies = InboundMessage.objects.filter(kind=MessageKind.REPLY, needs_attention=True)
    assert replies.count() == 2
    for reply in replies:
        assert reply.matched_message.prospect.stage == Stage.REPLY_RECEIVED
        assert reply.enrollment.status == EnrollmentStatus.STOPPED and reply.enrollment.replied_at
    assert Enrollment.objects.filter(status=EnrollmentStatus.ACTIVE, prospect__stage=Stage.CONTACTED).count() == 3


def test_the_demo_inbox_and_thread_pages_show_them(demo, client_for):
    admin = Mailbox.objects.get(email=DEMO_MAILBOX).owner
    client = client_for(admin)
    assert client.get("/outreach/inbox/").content.decode().count("data-id=") == 2
    reply = InboundMessage.objects.filter(kind=MessageKind.REPLY).first()
    page = client.get(f"/projects/{demo.pk}/prospects/{reply.prospect_id}/").content.decode()
    assert 'data-direction="out"' in page and 'data-direction="in"' in page


def test_loading_the_demo_again_changes_nothing(demo):
    before = counts()
    call_command("load_demo", stdout=io.StringIO())
    assert counts() == before


def test_the_demo_mailbox_follows_the_sandbox_to_new_ports(demo, monkeypatch):
    monkeypatch.setenv("LINKCRM_SMTP_PORT", "40001")
    monkeypatch.setenv("LINKCRM_IMAP_PORT", "40002")
    call_command("load_demo", stdout=io.StringIO())
    mailbox = Mailbox.objects.get(email=DEMO_MAILBOX)
    assert (mailbox.smtp_port, mailbox.imap_port) == (40001, 40002)


def test_the_demo_has_a_link_removal_sequence_whose_template_renders(demo):
    steps = list(Sequence.objects.get(name=REMOVAL_SEQUENCE).steps.select_related("template"))
    assert [(s.position, s.delay_days) for s in steps] == [(1, 0), (2, 7)]
    template = steps[0].template
    assert validate_template(template.subject, template.text, template.html or None, sample_context()) == []
