"""Link-removal prospects are worked with the same engine: enrolled, mailed, and moved on reply."""

from __future__ import annotations

import pytest

from outreach.choices import OutboxStatus
from outreach.models import Enrollment, OutboundMessage
from outreach.services.enrollments import enrollments_create
from outreach.services.outbox import outbox_send_mailbox
from prospects.choices import PipelineKind, ProspectSource, Stage
from prospects.models import Contact, Prospect
from prospects.services.creation import prospects_create
from tests.outreach.outbox_world import make_world
from tests.outreach.world import unique_address

pytestmark = [pytest.mark.django_db, pytest.mark.mail]


def test_a_removal_prospect_is_enrolled_and_its_request_sent(stack, alice) -> None:
    world = make_world(stack, alice)
    created = prospects_create(project=world.project, domains=["spammy-links.org"], source=ProspectSource.REMOVAL,
                               created_by=alice, pipeline=PipelineKind.REMOVAL)
    prospect = Prospect.objects.get(pk=created.created_ids[0])
    Contact.objects.create(prospect=prospect, email=unique_address("webmaster", "spammy-links.org"), is_primary=True)

    result = enrollments_create(prospect_ids=[prospect.pk], sequence=world.sequence, mailboxes=[world.mailbox],
                                enrolled_by=alice)
    outbox_send_mailbox(mailbox_id=world.mailbox.pk)

    assert len(result.enrolled) == 1 and result.refused == []
    assert Enrollment.objects.get(pk=result.enrolled[0]).prospect_id == prospect.pk
    assert OutboundMessage.objects.get(prospect=prospect).status == OutboxStatus.SENT
    prospect.refresh_from_db()
    assert (prospect.pipeline, prospect.stage) == (PipelineKind.REMOVAL, Stage.CONTACTED)
