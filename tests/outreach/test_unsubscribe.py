"""The one-click unsubscribe link (RFC 8058): GET only asks, POST adds do-not-contact and stops."""

from __future__ import annotations

import pytest
from django.test import Client

from outreach.choices import EnrollmentStatus, OutboxStatus, StopReason
from outreach.models import Enrollment, OutboundMessage
from prospects.services.suppression import suppression_match
from tests.outreach.outbox_world import enroll, make_world

pytestmark = pytest.mark.django_db


def _link(result) -> str:
    url = OutboundMessage.objects.get(enrollment_id=result.enrolled[0]).unsubscribe_url
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def test_a_one_click_post_unsubscribes_without_a_login_or_csrf_token(stack, alice):
    world = make_world(stack, alice)
    _, contact, result = enroll(world, "opt-out.com")
    client = Client(enforce_csrf_checks=True)

    response = client.post(_link(result), {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert suppression_match(project=world.project, email=contact.email) is not None
    enrollment = Enrollment.objects.get(pk=result.enrolled[0])
    assert (enrollment.status, enrollment.stop_reason) == (EnrollmentStatus.STOPPED, StopReason.UNSUBSCRIBED)
    assert OutboundMessage.objects.get(enrollment=enrollment).status == OutboxStatus.CANCELLED


def test_a_get_only_asks_for_confirmation(stack, alice):
    world = make_world(stack, alice)
    _, contact, result = enroll(world, "link-scanner.com")
    response = Client().get(_link(result))
    assert response.status_code == 200 and contact.email in response.content.decode()
    assert suppression_match(project=world.project, email=contact.email) is None
    assert Enrollment.objects.get(pk=result.enrolled[0]).status == EnrollmentStatus.ACTIVE


def test_a_forged_link_changes_nothing(stack, alice):
    world = make_world(stack, alice)
    _, contact, result = enroll(world, "forged.com")
    link = _link(result)
    response = Client().post(link[:-3] + "xx/")
    assert response.status_code == 404
    assert suppression_match(project=world.project, email=contact.email) is None
