"""The context a template preview renders against: the sample, or a real prospect's.

A real prospect's context is built by ``outreach.context.render_context_for`` (the same
function the sender uses) on an unsaved enrollment, so the preview shows exactly what
would be sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from outreach.context import render_context_for
from outreach.models import Enrollment, Mailbox
from outreach.rendering import sample_context
from prospects.models import Prospect


@dataclass(frozen=True)
class PreviewContext:
    context: dict[str, Any]
    label: str  # what the preview rendered against, for the page


def preview_context(prospect: Prospect | None, mailbox: Mailbox | None = None) -> PreviewContext:
    """The sample context, or ``prospect``'s real one (its primary contact, first target page).

    ``mailbox`` is the sender shown; without one, a placeholder sender (you@example.com).
    """
    if prospect is None:
        return PreviewContext(sample_context(), "the sample prospect (example.org)")
    contact = prospect.contacts.order_by("-is_primary", "pk").first()
    if contact is None:
        return PreviewContext(sample_context(), f"the sample prospect ({prospect.domain}: it has no contact)")
    mailbox = mailbox or Mailbox(name="Your mailbox", from_name="Your name", email="you@example.com")
    enrollment = Enrollment(
        prospect=prospect, contact=contact, mailbox=mailbox, domain=prospect.domain, thread_token="preview",  # noqa: S106 (not a secret)
        target_page=prospect.project.target_pages.order_by("pk").first(),
    )
    return PreviewContext(render_context_for(enrollment, None), f"{prospect.domain} ({contact.email})")
