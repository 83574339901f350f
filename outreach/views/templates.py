"""Template pages: list, view with version history, editor with live preview (admins edit).

Outreach staff may read and preview templates (they choose them for sequences); only
admins create and edit them, as issue #5 says. Every save goes through ``template_save``.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods, require_POST

from linkcrm.choices import Role
from linkcrm.permissions import has_role, role_required
from outreach.forms import TemplateForm
from outreach.models import EmailTemplate
from outreach.preview import preview_context
from outreach.rendering import TemplateError, TemplateRenderError, render_email
from outreach.selectors import mailboxes_sendable_by, visible_prospects
from outreach.services.templates import TemplateInvalid, template_save, template_set_archived
from prospects.models import Prospect


@role_required(Role.OUTREACH)
def template_list(request: HttpRequest) -> HttpResponse:
    templates = EmailTemplate.objects.order_by("archived", "name")
    return render(request, "outreach/template_list.html", {
        "templates": templates, "can_edit": has_role(request.user, Role.ADMIN),
    })


@role_required(Role.OUTREACH)
def template_detail(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(EmailTemplate, pk=pk)
    return render(request, "outreach/template_detail.html", {
        "template": template, "versions": template.versions.select_related("created_by"),
        "can_edit": has_role(request.user, Role.ADMIN),
    })


def _errors_by_part(errors: list[TemplateError]) -> dict[str, list[TemplateError]]:
    grouped: dict[str, list[TemplateError]] = {}
    for error in errors:
        grouped.setdefault(error.part, []).append(error)
    return grouped


def _editor(request: HttpRequest, template: EmailTemplate | None) -> HttpResponse:
    initial = {"name": template.name, "subject": template.subject, "text": template.text,
               "html": template.html} if template else None
    form = TemplateForm(request.POST or None, initial=initial)
    errors: list[TemplateError] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = template_save(template=template, name=data["name"], subject=data["subject"],
                                  text=data["text"], html=data["html"], by=request.user)
        except TemplateInvalid as exc:
            errors = exc.errors
        else:
            messages.success(request, f"Template '{saved.name}' saved (version {saved.version}).")
            return redirect("outreach:template-detail", pk=saved.pk)
    return render(request, "outreach/template_form.html", {
        "form": form, "template": template, "errors": errors, "errors_by_part": _errors_by_part(errors),
        "prospects": visible_prospects(request.user).select_related("project").order_by("domain")[:200],
    })


@role_required(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def template_new(request: HttpRequest) -> HttpResponse:
    return _editor(request, None)


@role_required(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _editor(request, get_object_or_404(EmailTemplate, pk=pk))


@role_required(Role.OUTREACH)
@require_POST
def template_preview(request: HttpRequest) -> HttpResponse:
    """Render the posted subject/text/html (not saved) against the sample or a chosen prospect.

    Answers an HTML fragment for the editor's live preview; errors are listed by part and line.
    """
    prospect = None
    if request.POST.get("prospect"):
        try:
            prospect = visible_prospects(request.user).get(pk=int(request.POST["prospect"]))
        except (ValueError, Prospect.DoesNotExist):
            raise Http404("No such prospect") from None
    source = preview_context(prospect, mailboxes_sendable_by(request.user).first())
    parts = {part: request.POST.get(part, "") for part in ("subject", "text", "html")}
    try:
        rendered, errors = render_email(parts, source.context), []
    except TemplateRenderError as exc:
        rendered, errors = None, exc.errors
    return render(request, "outreach/_template_preview.html", {
        "rendered": rendered, "errors": errors, "source": source,
    })


@role_required(Role.ADMIN)
@require_POST
def template_archive(request: HttpRequest, pk: int) -> HttpResponse:
    """Hide a template from pickers (or show it again); its versions and sent messages stay."""
    template = get_object_or_404(EmailTemplate, pk=pk)
    template_set_archived(template=template, archived=request.POST.get("archived") == "1")
    messages.success(request, f"'{template.name}' {'archived' if template.archived else 'restored'}.")
    return redirect("outreach:template-detail", pk=template.pk)


urlpatterns = [
    path("templates/", template_list, name="template-list"),
    path("templates/new/", template_new, name="template-new"),
    path("templates/preview/", template_preview, name="template-preview"),
    path("templates/<int:pk>/", template_detail, name="template-detail"),
    path("templates/<int:pk>/edit/", template_edit, name="template-edit"),
    path("templates/<int:pk>/archive/", template_archive, name="template-archive"),
]
