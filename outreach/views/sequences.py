"""Sequence pages: list, view, and (managers and admins) create and edit with their steps.

The steps editor submits every row at once (order number, template, delay, business
days, remove); the service makes the sequence's steps exactly that list.
"""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods, require_POST

from linkcrm.choices import Role
from linkcrm.permissions import has_role, role_required
from outreach.forms import SequenceForm
from outreach.models import Sequence
from outreach.selectors import templates_active
from outreach.services.sequences import (
    SequenceError,
    StepSpec,
    sequence_save,
    sequence_set_archived,
    sequence_steps_save,
)

EXTRA_ROWS = 1  # blank rows offered for new steps


@role_required(Role.OUTREACH)
def sequence_list(request: HttpRequest) -> HttpResponse:
    sequences = Sequence.objects.order_by("archived", "name").prefetch_related("steps__template")
    return render(request, "outreach/sequence_list.html", {
        "sequences": sequences, "can_edit": has_role(request.user, Role.MANAGER),
    })


@role_required(Role.OUTREACH)
def sequence_detail(request: HttpRequest, pk: int) -> HttpResponse:
    sequence = get_object_or_404(Sequence, pk=pk)
    return render(request, "outreach/sequence_detail.html", {
        "sequence": sequence, "steps": sequence.steps.select_related("template"),
        "can_edit": has_role(request.user, Role.MANAGER),
    })


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int(value or default)
    except ValueError:
        return default


def parse_steps(post: dict) -> list[StepSpec]:
    """The editor's rows in their chosen order; removed rows and blank new rows are left out."""
    rows = []
    for index in range(_int(post.get("steps-count"))):
        prefix = f"steps-{index}-"
        template_id = _int(post.get(prefix + "template"))
        if post.get(prefix + "remove") or not template_id:
            continue
        step_id = _int(post.get(prefix + "id")) or None
        spec = StepSpec(template_id=template_id, delay_days=max(_int(post.get(prefix + "delay")), 0),
                        business_days=bool(post.get(prefix + "business")), step_id=step_id)
        rows.append((_int(post.get(prefix + "order"), index + 1), index, spec))
    return [spec for _order, _index, spec in sorted(rows, key=lambda row: row[:2])]


def _editor(request: HttpRequest, sequence: Sequence | None) -> HttpResponse:
    initial = {"name": sequence.name, "description": sequence.description} if sequence else None
    form = SequenceForm(request.POST or None, initial=initial)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            saved = _save(request, sequence, form.cleaned_data)
        except SequenceError as exc:
            error = str(exc)
        else:
            messages.success(request, f"Sequence '{saved.name}' saved.")
            return redirect("outreach:sequence-detail", pk=saved.pk)
    steps = list(sequence.steps.select_related("template")) if sequence else []
    blank_rows = range(len(steps), len(steps) + EXTRA_ROWS + (0 if steps else 2))
    return render(request, "outreach/sequence_form.html", {
        "form": form, "sequence": sequence, "error": error, "steps": steps, "blank_rows": blank_rows,
        "rows_count": blank_rows.stop, "templates": templates_active(),
    })


def _save(request: HttpRequest, sequence: Sequence | None, data: dict) -> Sequence:
    steps = parse_steps(request.POST)
    with transaction.atomic():  # a sequence is never saved without valid steps
        saved = sequence_save(sequence=sequence, name=data["name"], description=data["description"],
                              by=request.user)
        sequence_steps_save(sequence=saved, steps=steps)
    return saved


@role_required(Role.MANAGER)
@require_http_methods(["GET", "POST"])
def sequence_new(request: HttpRequest) -> HttpResponse:
    return _editor(request, None)


@role_required(Role.MANAGER)
@require_http_methods(["GET", "POST"])
def sequence_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _editor(request, get_object_or_404(Sequence, pk=pk))


@role_required(Role.MANAGER)
@require_POST
def sequence_archive(request: HttpRequest, pk: int) -> HttpResponse:
    """Hide a sequence from the enrollment picker (or show it again); running enrollments go on."""
    sequence = get_object_or_404(Sequence, pk=pk)
    sequence_set_archived(sequence=sequence, archived=request.POST.get("archived") == "1")
    messages.success(request, f"'{sequence.name}' {'archived' if sequence.archived else 'restored'}.")
    return redirect("outreach:sequence-detail", pk=sequence.pk)


urlpatterns = [
    path("sequences/", sequence_list, name="sequence-list"),
    path("sequences/new/", sequence_new, name="sequence-new"),
    path("sequences/<int:pk>/", sequence_detail, name="sequence-detail"),
    path("sequences/<int:pk>/edit/", sequence_edit, name="sequence-edit"),
    path("sequences/<int:pk>/archive/", sequence_archive, name="sequence-archive"),
]
