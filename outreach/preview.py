"""The context a template preview renders against: the sample, or a real prospect's.

A real prospect's context is built by ``outreach.context.render_context_for`` (the same
function the sender uses) on an unsaved enrollment, so the preview shows exactly what
would be sent. Until that module exists the sample context is used, and the caller is told.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from outreach.models import Enrollment, Mailbox
from outreach.rendering import sample_context
from prospects.models import Prospect


@dataclass(frozen=True)
class PreviewContext:
    context: dict[str, Any]
    label: str  # what the preview rendered against, for the page


def _render_context_for() -> Any:
    try:
        return importlib.import_module("outreach.context").render_context_for
    except (ImportError, AttributeError):
        return None


def preview_context(prospect: Prospect | None, mailbox: Mailbox | None = None) -> PreviewContext:
    """The sample context, or ``prospect``'s real one (its primary contact, first target page).

    ``mailbox`` is the sender shown; without one, a placeholder sender (you@example.com).
    """
    if prospect is None:
        return PreviewContext(sample_context(), "the sample prospect (example.org)")
    builder = _render_context_for()
    contact = prospect.contacts.order_by("-is_primary", "pk").first()
    if builder is None or contact is None:
        why = "it has no contact" if contact is None else "real contexts are not available yet"
        return PreviewContext(sample_context(), f"the sample prospect ({prospect.domain}: {why})")
    mailbox = mailbox or Mailbox(name="Your mailbox", from_name="Your name", email="you@example.com")
    enrollment = Enrollment(
        prospect=prospect, contact=contact, mailbox=mailbox, domain=prospect.domain, thread_token="preview",  # noqa: S106 (not a secret)
        target_page=prospect.project.target_pages.order_by("pk").first(),
    )
    return PreviewContext(builder(enrollment, None), f"{prospect.domain} ({contact.email})")
