"""Pages for contacts and do-not-contact lists. Thin: parse, call a service, render.

Who may do what: project members (any role) see and edit their prospects' contacts, run
discovery and add to their project's do-not-contact list. Removing a do-not-contact entry,
and anything on the global list, needs a manager. The prospect page (written elsewhere)
includes ``prospects/_contacts.html`` with ``prospect`` and ``contacts``.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_POST

from linkcrm.choices import Role
from linkcrm.lib.redirects import safe_next
from linkcrm.permissions import has_role, role_required
from prospects.models import Project, Suppression
from prospects.selectors.contacts import (
    contact_get_for_user,
    contacts_of_prospect,
    discovery_last_run,
    prospect_for_contacts,
    suppression_list,
)
from prospects.selectors.projects import project_get_for_user
from prospects.services.contacts import (
    ContactError,
    contact_add,
    contact_delete,
    contact_set_primary,
    contact_update,
    contacts_discover_enqueue,
)
from prospects.services.suppression import (
    SuppressionError,
    suppression_add,
    suppression_import,
    suppression_remove,
)

MAX_IMPORT_BYTES = 5 * 1024 * 1024


class ContactForm(forms.Form):
    email = forms.CharField(max_length=254, widget=forms.EmailInput)
    name = forms.CharField(max_length=200, required=False)
    role = forms.CharField(max_length=100, required=False, help_text="e.g. Editor, Marketing, Webmaster")


class SuppressionForm(forms.Form):
    value = forms.CharField(max_length=2048, label="Email address or domain",
                            help_text="jane@shop.com, shop.com or a URL (its domain is listed).")
    reason = forms.CharField(max_length=200, required=False)


class SuppressionImportForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), required=False, label="Paste lines",
                           help_text="One email or domain per line, optionally followed by ,reason.")
    file = forms.FileField(required=False, help_text="Or a CSV/text file in the same shape.")
    skip_invalid = forms.BooleanField(required=False, label="Import the valid lines and skip bad ones")

    def clean(self) -> dict:
        data = super().clean()
        upload = data.get("file")
        if upload is not None:
            if upload.size > MAX_IMPORT_BYTES:
                raise forms.ValidationError(f"The file is larger than {MAX_IMPORT_BYTES // 1024 // 1024} MB.")
            try:
                data["text"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise forms.ValidationError("The file is not UTF-8 text.") from None
        if not (data.get("text") or "").strip():
            raise forms.ValidationError("Paste some lines or choose a file.")
        return data


def _back(request: HttpRequest, default: str) -> HttpResponseRedirect:
    """Redirect to a safe ``next`` (e.g. the prospect page that included the fragment), else ``default``."""
    return HttpResponseRedirect(safe_next(request, default))


# --- contacts ----------------------------------------------------------------------------------


@role_required(Role.OUTREACH)
def prospect_contacts(request: HttpRequest, pk: int) -> HttpResponse:
    prospect = prospect_for_contacts(request.user, pk)
    return render(request, "prospects/contacts_list.html", {
        "prospect": prospect, "contacts": contacts_of_prospect(prospect.pk),
        "discovery": discovery_last_run(prospect.pk), "form": ContactForm(),
    })


@role_required(Role.OUTREACH)
@require_http_methods(["GET", "POST"])
def contact_new(request: HttpRequest, pk: int) -> HttpResponse:
    prospect = prospect_for_contacts(request.user, pk)
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contact = contact_add(prospect=prospect, **form.cleaned_data)
        except ContactError as exc:
            form.add_error(exc.field, str(exc))
        else:
            messages.success(request, f"{contact.email} added.")
            return _back(request, reverse("prospects:prospect-contacts", args=[prospect.pk]))
    return render(request, "prospects/contacts_form.html",
                  {"prospect": prospect, "form": form, "contact": None, "next": safe_next(request)})


@role_required(Role.OUTREACH)
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = contact_get_for_user(request.user, pk)
    initial = {"email": contact.email, "name": contact.name, "role": contact.role}
    form = ContactForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            contact_update(contact_id=contact.pk, **form.cleaned_data)
        except ContactError as exc:
            form.add_error(exc.field, str(exc))
        else:
            messages.success(request, "Contact saved.")
            return _back(request, reverse("prospects:prospect-contacts", args=[contact.prospect_id]))
    return render(request, "prospects/contacts_form.html",
                  {"prospect": contact.prospect, "form": form, "contact": contact, "next": safe_next(request)})


@role_required(Role.OUTREACH)
@require_POST
def contact_remove(request: HttpRequest, pk: int) -> HttpResponse:
    contact = contact_get_for_user(request.user, pk)
    contact_delete(contact_id=contact.pk)
    messages.success(request, f"{contact.email} deleted.")
    return _back(request, reverse("prospects:prospect-contacts", args=[contact.prospect_id]))


@role_required(Role.OUTREACH)
@require_POST
def contact_primary(request: HttpRequest, pk: int) -> HttpResponse:
    contact = contact_get_for_user(request.user, pk)
    contact_set_primary(contact_id=contact.pk)
    messages.success(request, f"{contact.email} is now the primary contact.")
    return _back(request, reverse("prospects:prospect-contacts", args=[contact.prospect_id]))


@role_required(Role.OUTREACH)
@require_POST
def contacts_discover(request: HttpRequest, pk: int) -> HttpResponse:
    prospect = prospect_for_contacts(request.user, pk)
    contacts_discover_enqueue(prospect_id=prospect.pk)
    messages.info(request, f"Looking for contacts on {prospect.domain}; results appear here when done.")
    return _back(request, reverse("prospects:prospect-contacts", args=[prospect.pk]))


# --- do-not-contact lists ------------------------------------------------------------------------


def _suppression_page(request: HttpRequest, project: Project | None, **forms_: forms.Form) -> HttpResponse:
    can_manage = has_role(request.user, Role.MANAGER)
    return render(request, "prospects/suppression_list.html", {
        "project": project, "entries": suppression_list(project=project), "can_delete": can_manage,
        "global_count": suppression_list(project=None).count() if project else 0,
        "form": forms_.get("form") or SuppressionForm(),
        "import_form": forms_.get("import_form") or SuppressionImportForm(),
        "import_errors": forms_.get("import_errors") or [],
    })


def _add_suppression(request: HttpRequest, project: Project | None) -> HttpResponse:
    form = SuppressionForm(request.POST)
    if form.is_valid():
        try:
            entry, created = suppression_add(project=project, value=form.cleaned_data["value"],
                                             reason=form.cleaned_data["reason"], created_by=request.user)
        except SuppressionError as exc:
            form.add_error("value", str(exc))
        else:
            messages.success(request, f"{entry.value} {'added' if created else 'was already on the list'}.")
            return redirect(_list_url(project))
    return _suppression_page(request, project, form=form)


def _import_suppressions(request: HttpRequest, project: Project | None) -> HttpResponse:
    form = SuppressionImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _suppression_page(request, project, import_form=form)
    result = suppression_import(project=project, text=form.cleaned_data["text"], created_by=request.user,
                                skip_invalid=form.cleaned_data["skip_invalid"])
    if result.errors and not form.cleaned_data["skip_invalid"]:
        messages.error(request, f"Nothing imported: {len(result.errors)} line(s) could not be read.")
        return _suppression_page(request, project, import_form=form, import_errors=result.errors)
    messages.success(request, f"Imported {result.added} new, {result.existing} already listed"
                     + (f", {len(result.errors)} bad line(s) skipped." if result.errors else "."))
    return redirect(_list_url(project))


def _list_url(project: Project | None) -> str:
    if project is None:
        return reverse("prospects:suppressions")
    return reverse("prospects:project-suppressions", args=[project.pk])


@role_required(Role.OUTREACH)
@require_http_methods(["GET", "POST"])
def project_suppressions(request: HttpRequest, project_pk: int) -> HttpResponse:
    project = project_get_for_user(request.user, project_pk)
    if request.method == "POST":
        return _add_suppression(request, project)
    return _suppression_page(request, project)


@role_required(Role.OUTREACH)
@require_POST
def project_suppressions_import(request: HttpRequest, project_pk: int) -> HttpResponse:
    return _import_suppressions(request, project_get_for_user(request.user, project_pk))


@role_required(Role.MANAGER)
@require_http_methods(["GET", "POST"])
def global_suppressions(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _add_suppression(request, None)
    return _suppression_page(request, None)


@role_required(Role.MANAGER)
@require_POST
def global_suppressions_import(request: HttpRequest) -> HttpResponse:
    return _import_suppressions(request, None)


@role_required(Role.MANAGER)
@require_POST
def suppression_delete(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(Suppression.objects.select_related("project"), pk=pk)
    suppression_remove(suppression_id=entry.pk)
    messages.success(request, f"{entry.value} removed from the do-not-contact list.")
    return redirect(_list_url(entry.project))


urlpatterns = [
    path("prospects/<int:pk>/contacts/", prospect_contacts, name="prospect-contacts"),
    path("prospects/<int:pk>/contacts/add/", contact_new, name="contact-add"),
    path("prospects/<int:pk>/contacts/discover/", contacts_discover, name="contacts-discover"),
    path("contacts/<int:pk>/edit/", contact_edit, name="contact-edit"),
    path("contacts/<int:pk>/delete/", contact_remove, name="contact-delete"),
    path("contacts/<int:pk>/primary/", contact_primary, name="contact-primary"),
    path("projects/<int:project_pk>/do-not-contact/", project_suppressions, name="project-suppressions"),
    path("projects/<int:project_pk>/do-not-contact/import/", project_suppressions_import,
         name="project-suppressions-import"),
    path("do-not-contact/", global_suppressions, name="suppressions"),
    path("do-not-contact/import/", global_suppressions_import, name="suppressions-import"),
    path("do-not-contact/<int:pk>/delete/", suppression_delete, name="suppression-delete"),
]
