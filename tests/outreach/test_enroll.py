"""Enrollment: each prospect checked and refused on its own, with a reason; mailboxes rotate."""

from __future__ import annotations

import pytest

from outreach.models import EmailTemplate, Enrollment, OutboundMessage, TemplateVersion
from outreach.services.enrollments import EnrollmentError, enrollments_create
from prospects.choices import EmailStatus, Stage, SuppressionKind
from prospects.models import Contact
from prospects.services.pipeline import prospect_move_stage
from prospects.services.suppression import suppression_add
from tests.outreach.outbox_world import make_world
from tests.outreach.world import prospect_with_contact, sandbox_mailbox

pytestmark = pytest.mark.django_db


def _enroll(world, prospects, **extra):
    return enrollments_create(prospect_ids=[p.pk for p in prospects], sequence=world.sequence,
                              mailboxes=extra.pop("mailboxes", [world.mailbox]), enrolled_by=world.owner, **extra)


def test_each_refusal_is_reported_per_prospect_and_the_rest_are_enrolled(stack, alice):
    world = make_world(stack, alice)
    ok, _ = prospect_with_contact(world.project, "fine.com", by=alice)
    bounced, contact = prospect_with_contact(world.project, "bounced.com", by=alice)
    Contact.objects.filter(pk=contact.pk).update(email_status=EmailStatus.BOUNCED)
    blocked, _ = prospect_with_contact(world.project, "blocked.com", by=alice)
    suppression_add(project=None, value="blocked.com", kind=SuppressionKind.DOMAIN)
    rejected, _ = prospect_with_contact(world.project, "rejected.com", by=alice)
    prospect_move_stage(prospect_id=rejected.pk, to_stage=Stage.REJECTED, actor=alice, reject_reason="declined")
    no_contact, contact = prospect_with_contact(world.project, "nobody.com", by=alice)
    contact.delete()

    result = _enroll(world, [ok, bounced, blocked, rejected, no_contact])

    assert [Enrollment.objects.get(pk=pk).prospect_id for pk in result.enrolled] == [ok.pk]
    reasons = {refusal.domain: refusal.reason for refusal in result.refused}
    assert "bounced before" in reasons["bounced.com"]
    assert "do-not-contact" in reasons["blocked.com"]
    assert "Rejected" in reasons["rejected.com"]
    assert "no contact" in reasons["nobody.com"]
    assert OutboundMessage.objects.count() == 1


def test_a_running_enrollment_at_the_same_domain_refuses_another(stack, alice, bob):
    world = make_world(stack, alice)
    other = make_world(stack, bob)
    first, _ = prospect_with_contact(world.project, "popular.com", by=alice)
    second, _ = prospect_with_contact(other.project, "popular.com", by=bob)
    assert _enroll(world, [first]).enrolled
    result = _enroll(other, [second])
    assert result.enrolled == [] and "already running at popular.com" in result.refused[0].reason


def test_a_template_missing_a_value_for_this_prospect_is_refused(stack, alice):
    world = make_world(stack, alice)
    step2 = EmailTemplate.objects.get(steps__sequence=world.sequence, steps__position=2)
    TemplateVersion.objects.filter(template=step2).update(text="Hi {{ contact.nickname }}")
    prospect, _ = prospect_with_contact(world.project, "picky.com", by=alice)
    result = _enroll(world, [prospect])
    assert result.enrolled == []
    assert "step 2" in result.refused[0].reason and "nickname" in result.refused[0].reason


def test_a_line_break_in_the_contact_name_never_reaches_a_header(stack, alice):
    world = make_world(stack, alice)
    prospect, contact = prospect_with_contact(world.project, "inject.com", by=alice)
    Contact.objects.filter(pk=contact.pk).update(name="Eve\r\nBcc: victim@example.com")
    result = _enroll(world, [prospect])
    assert result.enrolled == [] and "cannot be built" in result.refused[0].reason
    assert not OutboundMessage.objects.exists() and not Enrollment.objects.exists()


def test_mailboxes_rotate_but_a_prospect_keeps_its_mailbox(stack, alice):
    world = make_world(stack, alice)
    second = sandbox_mailbox(stack, alice)
    prospects = [prospect_with_contact(world.project, f"rot-{n}.com", by=alice)[0] for n in range(4)]
    result = _enroll(world, prospects, mailboxes=[world.mailbox, second])
    mailboxes = [Enrollment.objects.get(pk=pk).mailbox_id for pk in result.enrolled]
    assert mailboxes == [world.mailbox.pk, second.pk, world.mailbox.pk, second.pk]

    Enrollment.objects.filter(prospect=prospects[1]).update(status="stopped")
    again = _enroll(world, [prospects[1]], mailboxes=[world.mailbox, second])
    assert Enrollment.objects.get(pk=again.enrolled[0]).mailbox_id == second.pk


def test_a_sequence_without_steps_or_mailboxes_is_an_error(stack, alice):
    world = make_world(stack, alice)
    prospect, _ = prospect_with_contact(world.project, "x.com", by=alice)
    with pytest.raises(EnrollmentError):
        _enroll(world, [prospect], mailboxes=[])
    world.sequence.steps.all().delete()
    with pytest.raises(EnrollmentError):
        _enroll(world, [prospect])


def test_a_chosen_contact_is_used_instead_of_the_primary(stack, alice):
    world = make_world(stack, alice)
    prospect, _ = prospect_with_contact(world.project, "two-people.com", by=alice)
    other = Contact.objects.create(prospect=prospect, email="second@two-people.com", name="Second")
    result = _enroll(world, [prospect], contact_ids=[other.pk])
    assert OutboundMessage.objects.get(enrollment_id=result.enrolled[0]).to_address == "second@two-people.com"
