"""One-click unsubscribe (RFC 8058): a signed link puts the contact's address on do-not-contact.

The link names a contact and a project, signed with SECRET_KEY (outreach.headers); it works
without a login and forever. Applying it is idempotent: the address is suppressed for the
project and its running enrollments there stop (automation.on_opt_out).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing
from django.db import transaction

from outreach.choices import StopReason
from outreach.headers import verify_unsubscribe
from outreach.services import automation
from prospects.models import Contact, Project


class UnsubscribeLinkInvalid(ValueError):
    """The token was tampered with, or names nobody we know."""


@dataclass(frozen=True)
class UnsubscribeTarget:
    """Who a link unsubscribes, for the confirmation page (no more than the person already knows)."""

    contact_id: int
    project_id: int
    email: str
    project_name: str


def unsubscribe_target(token: str) -> UnsubscribeTarget:
    """Read a link; UnsubscribeLinkInvalid when it is forged or its contact no longer exists."""
    try:
        contact_id, project_id = verify_unsubscribe(token)
    except signing.BadSignature:
        raise UnsubscribeLinkInvalid("this unsubscribe link is not valid") from None
    contact = Contact.objects.filter(pk=contact_id).values_list("email", flat=True).first()
    project = Project.objects.filter(pk=project_id).values_list("name", flat=True).first()
    if contact is None or project is None:
        raise UnsubscribeLinkInvalid("this unsubscribe link no longer names anyone")
    return UnsubscribeTarget(contact_id, project_id, contact, project)


@transaction.atomic
def unsubscribe_apply(*, token: str) -> UnsubscribeTarget:
    """Put the link's address on the project's do-not-contact list and stop its enrollments there."""
    target = unsubscribe_target(token)
    automation.on_opt_out(enrollment=None, address=target.email, reason=StopReason.UNSUBSCRIBED,
                          project_id=target.project_id)
    return target
