"""Writes for email templates: every save is validated, and a changed text becomes a new version.

The web editor, the API and Django admin all save through :func:`template_save`, so a
template that does not render against the sample context can never be stored, and every
text a message was ever rendered from stays readable as a :class:`TemplateVersion`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from outreach.models import EmailTemplate, TemplateVersion
from outreach.rendering import TemplateError, validate_template


class TemplateInvalid(Exception):
    """The template does not validate; ``errors`` says which part and line."""

    def __init__(self, errors: list[TemplateError]) -> None:
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = errors


def template_save(
    *,
    template: EmailTemplate | None,
    name: str,
    subject: str,
    text: str,
    html: str = "",
    by: AbstractBaseUser | None,
    sample: Mapping[str, Any] | None = None,
) -> EmailTemplate:
    """Create (``template=None``) or update a template; raise :class:`TemplateInvalid` on any error.

    A new :class:`TemplateVersion` is written (and ``EmailTemplate.version`` bumped) only
    when subject, text or HTML changed; renaming alone keeps the version.
    """
    name = name.strip()
    errors = validate_template(subject, text, html or None, sample)
    if not name:
        errors.insert(0, TemplateError("name", None, "must not be empty"))
    if errors:
        raise TemplateInvalid(errors)
    with transaction.atomic():
        if template is None:
            template = EmailTemplate(created_by=by)
        else:
            template = EmailTemplate.objects.select_for_update().get(pk=template.pk)
        changed = template.pk is None or (template.subject, template.text, template.html) != (subject, text, html)
        template.name, template.subject, template.text, template.html = name, subject, text, html
        if changed:
            template.version += 1
        try:
            with transaction.atomic():
                template.save()
        except IntegrityError:
            raise TemplateInvalid([TemplateError("name", None, f"a template named '{name}' exists")]) from None
        if changed:
            TemplateVersion.objects.create(
                template=template, number=template.version, subject=subject, text=text, html=html, created_by=by
            )
    return template


def template_set_archived(*, template: EmailTemplate, archived: bool) -> None:
    """Hide (or show again) a template in pickers; its versions and messages stay."""
    EmailTemplate.objects.filter(pk=template.pk).update(archived=archived)
    template.archived = archived
