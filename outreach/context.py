"""The rendering context of one real email: prospect, contact, project, sender, target page, unsubscribe.

Builds :func:`outreach.rendering.build_context` from product rows, so templates only ever see
plain strings (never a model or its methods). Used at enrollment (to refuse a prospect whose
templates do not render) and when each step is queued.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from outreach.headers import sign_unsubscribe
from outreach.models import Enrollment, Mailbox, TemplateVersion
from outreach.rendering import (
    ContactInfo,
    ProjectInfo,
    ProspectInfo,
    SenderInfo,
    TargetPageInfo,
    build_context,
)
from prospects.models import Contact, Project, Prospect, TargetPage


def unsubscribe_url(contact_id: int, project_id: int) -> str:
    """The signed one-click link (absolute, under LINKCRM_PUBLIC_URL) for one contact in one project."""
    token = sign_unsubscribe(contact_id, project_id)
    return settings.LINKCRM_PUBLIC_URL + reverse("outreach:unsubscribe", args=[token])


def _site_url(project: Project) -> str:
    return f"https://{project.site.domain}/" if project.site_id else ""


def context_for(
    *, prospect: Prospect, contact: Contact, mailbox: Mailbox, target_page: TargetPage | None
) -> dict[str, Any]:
    """The documented template context for writing to ``contact`` of ``prospect`` from ``mailbox``."""
    project = prospect.project
    return build_context(
        prospect=ProspectInfo(domain=prospect.domain, url=f"https://{prospect.domain}/"),
        contact=ContactInfo(email=contact.email, name=contact.name, role=contact.role),
        project=ProjectInfo(name=project.name, site=_site_url(project)),
        sender=SenderInfo(name=mailbox.from_name or mailbox.name, email=mailbox.email, signature=mailbox.signature),
        target_page=TargetPageInfo(url=target_page.url, label=target_page.label) if target_page else None,
        unsubscribe_url=unsubscribe_url(contact.pk, project.pk),
    )


def render_context_for(enrollment: Enrollment, step_template_version: TemplateVersion | None = None) -> dict[str, Any]:
    """The context for rendering a step of ``enrollment``.

    The context does not depend on the step's template version today; the parameter is kept
    so a version-specific context (e.g. a version that needs extra data) has one place to go.
    """
    del step_template_version
    return context_for(
        prospect=enrollment.prospect,
        contact=enrollment.contact,
        mailbox=enrollment.mailbox,
        target_page=enrollment.target_page,
    )
