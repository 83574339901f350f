"""Django admin for outreach: templates edited through the same service as the web editor,
mailboxes with write-only passwords, and read-only views of what the machinery wrote."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from outreach.models import (
    EmailTemplate,
    Enrollment,
    InboundMessage,
    Mailbox,
    OutboundMessage,
    Sequence,
    SequenceStep,
    TemplateVersion,
)
from outreach.rendering import validate_template
from outreach.services.mailboxes import EDITABLE_FIELDS, MailboxError, mailbox_create, mailbox_update, mailbox_validate
from outreach.services.templates import template_save


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the sender and the syncer: visible, never edited by hand."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TemplateVersionInline(admin.TabularInline):
    model = TemplateVersion
    fields = ["number", "subject", "text", "html", "created_by", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EmailTemplateForm(forms.ModelForm):
    class Meta:
        model = EmailTemplate
        fields = ["name", "subject", "text", "html", "archived"]

    def clean(self) -> dict:
        data = super().clean()
        for error in validate_template(data.get("subject", ""), data.get("text", ""), data.get("html") or None):
            field = error.part if error.part in self.fields else None
            self.add_error(field, f"line {error.line}: {error.message}" if error.line else error.message)
        return data


@admin.register(EmailTemplate)
class EmailTemplateAdmin(admin.ModelAdmin):
    """Saved through ``template_save``: validated, and a changed text becomes a new version."""

    form = EmailTemplateForm
    list_display = ["name", "version", "archived", "updated_at"]
    search_fields = ["name", "subject"]
    inlines = [TemplateVersionInline]

    def save_model(self, request: HttpRequest, obj: EmailTemplate, form: forms.ModelForm, change: bool) -> None:
        existing = EmailTemplate.objects.get(pk=obj.pk) if change else None
        data = form.cleaned_data
        saved = template_save(template=existing, name=data["name"], subject=data["subject"], text=data["text"],
                              html=data.get("html") or "", by=request.user)
        if saved.archived != data.get("archived", False):
            EmailTemplate.objects.filter(pk=saved.pk).update(archived=data.get("archived", False))
        obj.pk, obj.version = saved.pk, saved.version


class MailboxAdminForm(forms.ModelForm):
    smtp_password_new = forms.CharField(
        label="SMTP password", required=False, strip=False,
        widget=forms.PasswordInput(render_value=False), help_text="Write-only; blank keeps the stored one.",
    )
    imap_password_new = forms.CharField(
        label="IMAP password", required=False, strip=False,
        widget=forms.PasswordInput(render_value=False), help_text="Write-only; blank keeps the stored one.",
    )

    class Meta:
        model = Mailbox
        fields = ["owner", *EDITABLE_FIELDS]

    def clean(self) -> dict:
        data = super().clean()
        try:
            mailbox_validate({name: data.get(name) for name in EDITABLE_FIELDS})
        except MailboxError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, str(exc))
        if not self.instance.pk and not data.get("smtp_password_new"):
            self.add_error("smtp_password_new", "A new mailbox needs its password.")
        return data


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    """Passwords go in through write-only fields and the mailbox services; they are never shown."""

    form = MailboxAdminForm
    list_display = ["name", "email", "owner", "status", "daily_cap", "timezone"]
    list_filter = ["status"]
    search_fields = ["name", "email"]
    readonly_fields = ["status", "paused_reason", "paused_at", "next_send_at"]

    def save_model(self, request: HttpRequest, obj: Mailbox, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        values = {name: data[name] for name in EDITABLE_FIELDS if name in data}
        smtp, imap = data.get("smtp_password_new", ""), data.get("imap_password_new", "")
        if change:
            mailbox_update(mailbox=obj, values=values, smtp_password=smtp, imap_password=imap)
        else:
            saved = mailbox_create(owner=data["owner"], values=values, smtp_password=smtp, imap_password=imap)
            obj.pk = saved.pk


class SequenceStepInline(admin.TabularInline):
    model = SequenceStep
    fields = ["position", "template", "delay_days", "business_days"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Sequence)
class SequenceAdmin(ReadOnlyAdmin):
    """Sequences are edited on /outreach/sequences/ (steps are saved as a whole there)."""

    list_display = ["name", "archived", "created_at"]
    inlines = [SequenceStepInline]


@admin.register(Enrollment)
class EnrollmentAdmin(ReadOnlyAdmin):
    list_display = ["prospect", "sequence", "contact", "mailbox", "status", "stop_reason", "enrolled_at"]
    list_filter = ["status", "stop_reason"]


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ReadOnlyAdmin):
    list_display = ["message_id", "to_address", "subject", "status", "due_at", "sent_at"]
    list_filter = ["status"]
    search_fields = ["message_id", "to_address", "subject"]


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    list_display = ["subject", "from_address", "kind", "match_method", "needs_attention", "received_at"]
    list_filter = ["kind", "match_method", "needs_attention"]
    search_fields = ["message_id", "from_address", "subject"]
