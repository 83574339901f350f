"""The pipeline pages: board, table with bulk actions, prospect page, moves, notes, reminders, imports.

Thin: parse with a form, check the project through ``project_get_for_user`` (404 for
non-members), call a service or a selector, render. A move posted by the board's script
(``Accept: application/json``) gets JSON back; the same form posted without script redirects
to the page it came from, so every action works with the keyboard and without JavaScript.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linkcrm.choices import Role
from linkcrm.lib.redirects import safe_next
from linkcrm.permissions import role_required
from prospects.board_forms import (
    AddProspectsForm,
    AssignForm,
    BoardFilterForm,
    BulkForm,
    ImportCsvForm,
    MoveForm,
    NoteForm,
    ReminderForm,
    TableFilterForm,
    TagsForm,
)
from prospects.choices import PipelineKind, RejectReason, Stage
from prospects.models import Project, Prospect, Reminder
from prospects.prospect_csv import MAX_BYTES, CsvRefused
from prospects.selectors import pipeline as selectors
from prospects.selectors.contacts import contacts_of_prospect
from prospects.selectors.pipeline import BoardFilters
from prospects.selectors.projects import project_get_for_user
from prospects.services import creation, pipeline
from prospects.services.pipeline import PipelineError, StageConflict

FILTER_KEYS = ("pipeline", "assignee", "score_min", "score_max", "tag", "q")


def _prospect(project: Project, pk: int) -> Prospect:
    try:
        return selectors.prospect_get(project=project, prospect_id=pk)
    except Prospect.DoesNotExist:
        raise Http404("No such prospect") from None


def _back(request: HttpRequest, default: str) -> HttpResponse:
    """Redirect to the form's ``next`` when it is a page of this site, else to ``default``."""
    return redirect(safe_next(request, default))


def _filter_query(request: HttpRequest, *extra: str) -> str:
    """The current filters as a query string, for links that must keep them."""
    keys = (*FILTER_KEYS, *extra)
    return urlencode([(key, request.GET[key]) for key in keys if request.GET.get(key)])


def _pipeline(request: HttpRequest) -> str:
    """The pipeline the board and table show: ``?pipeline=removal``, else link building."""
    value = request.GET.get("pipeline", "")
    return value if value in PipelineKind.values else PipelineKind.ACQUISITION


def _filters(request: HttpRequest, form: BoardFilterForm) -> BoardFilters:
    """The filter bar's filters in the pipeline the page shows."""
    return replace(form.filters(), pipeline=_pipeline(request))


def _wants_json(request: HttpRequest) -> bool:
    return request.headers.get("Accept", "").startswith("application/json")


def _form_errors(form: Any) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


# --- board and table ----------------------------------------------------------------------------


@role_required(Role.OUTREACH)
@require_GET
def board(request: HttpRequest, pk: int) -> HttpResponse:
    """The kanban: one column per stage, its count, and a page of cards (``off_<stage>`` pages a column)."""
    project = project_get_for_user(request.user, pk)
    members = selectors.project_members(project)
    form = BoardFilterForm(request.GET, members=members)
    offsets = {stage: _int(request.GET.get(f"off_{stage}")) for stage in Stage.values}
    columns = selectors.board_columns(
        project=project, filters=_filters(request, form), user=request.user, offsets=offsets
    )
    return render(
        request,
        "prospects/board.html",
        {
            "project": project,
            "columns": columns,
            "form": form,
            "filter_query": _filter_query(request),
            "tags": selectors.project_tags(project),
            "stages": Stage.choices,
            "reject_reasons": RejectReason.choices,
            "here": request.get_full_path(),
            "pipeline": _pipeline(request),
            "pipelines": PipelineKind.choices,
        },
    )


def _int(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0


@role_required(Role.OUTREACH)
@require_GET
def board_column(request: HttpRequest, pk: int) -> HttpResponse:
    """The next page of one column's cards (the board's "Show more", fetched by htmx)."""
    project = project_get_for_user(request.user, pk)
    stage = request.GET.get("stage", "")
    if stage not in Stage.values:
        raise Http404("No such stage")
    form = BoardFilterForm(request.GET, members=selectors.project_members(project))
    column = selectors.board_column(
        project=project,
        filters=_filters(request, form),
        user=request.user,
        stage=stage,
        offset=_int(request.GET.get("offset")),
    )
    return render(
        request,
        "prospects/board_column.html",
        {
            "project": project,
            "column": column,
            "filter_query": _filter_query(request),
            "stages": Stage.choices,
            "reject_reasons": RejectReason.choices,
            "here": reverse("prospects:board", args=[project.pk]),
        },
    )


@role_required(Role.OUTREACH)
@require_GET
def table(request: HttpRequest, pk: int) -> HttpResponse:
    """Prospects as a sortable, filterable table with check boxes for the bulk actions."""
    project = project_get_for_user(request.user, pk)
    members = selectors.project_members(project)
    form = TableFilterForm(request.GET, members=members)
    form.is_valid()  # invalid filters are dropped, not fatal
    data = getattr(form, "cleaned_data", {})
    sort = data.get("sort") or "-score"
    page = selectors.prospect_table(
        project=project,
        filters=_filters(request, form),
        user=request.user,
        stage=data.get("stage") or "",
        sort=sort,
        page=data.get("page") or 1,
    )
    return render(
        request,
        "prospects/board_table.html",
        {
            "project": project,
            "page": page,
            "form": form,
            "sort": sort,
            "columns": _sort_columns(sort),
            "filter_query": _filter_query(request, "stage"),
            "page_query": _filter_query(request, "stage", "sort"),
            "bulk": BulkForm(members=members),
            "tags": selectors.project_tags(project),
            "here": request.get_full_path(),
            "pipeline": _pipeline(request),
            "pipelines": PipelineKind.choices,
        },
    )


def _sort_columns(sort: str) -> list[dict[str, str]]:
    """Header links: clicking a column sorts by it, clicking it again flips the direction."""
    columns = []
    for key, (label, _) in selectors.TABLE_SORTS.items():
        current = sort.lstrip("-") == key
        descending = sort.startswith("-")
        next_sort = (key if descending else f"-{key}") if current else (key if key == "domain" else f"-{key}")
        arrow = ("↓" if descending else "↑") if current else ""
        columns.append({"key": key, "label": label, "sort": next_sort, "arrow": arrow})
    return columns


@role_required(Role.OUTREACH)
@require_POST
def bulk(request: HttpRequest, pk: int) -> HttpResponse:
    """Move, assign or tag the checked prospects; says how many changed and which were skipped."""
    project = project_get_for_user(request.user, pk)
    form = BulkForm(request.POST, members=selectors.project_members(project))
    default = reverse("prospects:prospect-table", args=[project.pk])
    if not form.is_valid():
        messages.error(request, f"Nothing changed: {_form_errors(form)}")
        return _back(request, default)
    data = form.cleaned_data
    try:
        _bulk_action(request, project, data, form.assignee_user())
    except PipelineError as exc:
        messages.error(request, f"Nothing changed: {exc}")
    return _back(request, default)


def _bulk_action(
    request: HttpRequest, project: Project, data: dict[str, Any], assignee: AbstractBaseUser | None
) -> None:
    ids = data["ids"]
    if data["action"] == "move":
        result = pipeline.prospects_bulk_move(
            project=project,
            prospect_ids=ids,
            to_stage=data["to_stage"],
            actor=request.user,
            reject_reason=data["reject_reason"] if data["to_stage"] == Stage.REJECTED else "",
        )
        verb = f"Moved to {Stage(data['to_stage']).label}"
    elif data["action"] == "assign":
        result = pipeline.prospects_assign(project=project, prospect_ids=ids, assignee=assignee)
        verb = f"Assigned to {assignee.get_username()}" if assignee else "Unassigned"
    else:
        changed = pipeline.prospects_add_tags(
            project=project, prospect_ids=ids, tags=pipeline.tags_parse(data["tags"])
        )
        messages.success(request, f"Tagged {changed} prospect{'s' if changed != 1 else ''}.")
        return
    messages.success(request, f"{verb}: {len(result.done)} prospect{'s' if len(result.done) != 1 else ''}.")
    if result.skipped:
        domains = dict(
            Prospect.objects.filter(pk__in=[i for i, _ in result.skipped]).values_list("pk", "domain")
        )
        skipped = "; ".join(f"{domains.get(i, f'#{i}')}: {why}" for i, why in result.skipped[:20])
        messages.warning(request, f"Skipped {len(result.skipped)}: {skipped}")


# --- moves and edits of one prospect ----------------------------------------------------------------


@role_required(Role.OUTREACH)
@require_POST
def move(request: HttpRequest, project_pk: int, pk: int) -> HttpResponse:
    """Move one prospect as the signed-in person, guarded by the stage the page showed."""
    project = project_get_for_user(request.user, project_pk)
    prospect = _prospect(project, pk)
    form = MoveForm(request.POST)
    if not form.is_valid():
        return _move_refused(request, prospect, _form_errors(form), status=400)
    data = form.cleaned_data
    try:
        pipeline.prospect_move_stage(
            prospect_id=prospect.pk,
            to_stage=data["to_stage"],
            expected_from=data["expected_from"] or None,
            actor=request.user,
            reason=data["reason"],
            reject_reason=data["reject_reason"],
            linking_page_url=data["linking_page_url"],
        )
    except StageConflict as exc:
        return _move_refused(
            request,
            prospect,
            f"{prospect.domain} was moved meanwhile: it is in "
            f"{Stage(exc.actual).label if exc.actual else 'no stage'} now.",
            status=409,
            actual=exc.actual,
        )
    except PipelineError as exc:
        return _move_refused(request, prospect, str(exc), status=400)
    prospect.refresh_from_db(fields=["stage", "reject_reason", "linking_page_url"])
    text = f"{prospect.domain} moved to {prospect.get_stage_display()}."
    if _wants_json(request):
        return JsonResponse(
            {
                "id": prospect.pk,
                "stage": prospect.stage,
                "stage_label": prospect.get_stage_display(),
                "reject_reason": prospect.get_reject_reason_display() if prospect.reject_reason else "",
                "message": text,
            }
        )
    messages.success(request, text)
    return _back(request, reverse("prospects:board", args=[project.pk]))


def _move_refused(
    request: HttpRequest, prospect: Prospect, message: str, *, status: int, actual: str | None = None
) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"id": prospect.pk, "error": message, "actual": actual}, status=status)
    messages.error(request, message)
    return _back(request, reverse("prospects:board", args=[prospect.project_id]))


@role_required(Role.OUTREACH)
@require_POST
def assign(request: HttpRequest, project_pk: int, pk: int) -> HttpResponse:
    project = project_get_for_user(request.user, project_pk)
    prospect = _prospect(project, pk)
    form = AssignForm(request.POST, members=selectors.project_members(project))
    if form.is_valid():
        who = form.assignee_user()
        pipeline.prospect_assign(prospect=prospect, assignee=who)
        messages.success(
            request, f"{prospect.domain}: {'assigned to ' + who.get_username() if who else 'unassigned'}."
        )
    else:
        messages.error(request, _form_errors(form))
    return _back(request, _detail_url(prospect))


@role_required(Role.OUTREACH)
@require_POST
def tags(request: HttpRequest, project_pk: int, pk: int) -> HttpResponse:
    project = project_get_for_user(request.user, project_pk)
    prospect = _prospect(project, pk)
    form = TagsForm(request.POST)
    try:
        if not form.is_valid():
            raise PipelineError(_form_errors(form))
        pipeline.prospect_set_tags(prospect=prospect, tags=pipeline.tags_parse(form.cleaned_data["tags"]))
        messages.success(request, "Tags saved.")
    except PipelineError as exc:
        messages.error(request, f"Tags not saved: {exc}")
    return _back(request, _detail_url(prospect))


@role_required(Role.OUTREACH)
@require_POST
def note_add(request: HttpRequest, project_pk: int, pk: int) -> HttpResponse:
    project = project_get_for_user(request.user, project_pk)
    prospect = _prospect(project, pk)
    form = NoteForm(request.POST)
    if form.is_valid() and form.cleaned_data["body"].strip():
        pipeline.note_add(prospect=prospect, author=request.user, body=form.cleaned_data["body"])
        messages.success(request, "Note added.")
    else:
        messages.error(request, "A note needs some text.")
    return _back(request, _detail_url(prospect) + "#notes")


@role_required(Role.OUTREACH)
@require_POST
def reminder_add(request: HttpRequest, project_pk: int, pk: int) -> HttpResponse:
    project = project_get_for_user(request.user, project_pk)
    prospect = _prospect(project, pk)
    form = ReminderForm(request.POST, members=selectors.project_members(project))
    try:
        if not form.is_valid():
            raise PipelineError(_form_errors(form))
        data = form.cleaned_data
        reminder = pipeline.reminder_add(
            prospect=prospect,
            due_at=data["due_at"],
            text=data["text"],
            created_by=request.user,
            assignee=form.assignee_user(),
        )
        messages.success(request, f"Reminder set for {reminder.assignee.get_username()}.")
    except PipelineError as exc:
        messages.error(request, f"No reminder set: {exc}")
    return _back(request, _detail_url(prospect) + "#reminders")


@role_required(Role.OUTREACH)
@require_POST
def reminder_done(request: HttpRequest, project_pk: int, pk: int) -> HttpResponse:
    project = project_get_for_user(request.user, project_pk)
    try:
        reminder = Reminder.objects.select_related("prospect").get(pk=pk, prospect__project=project)
    except Reminder.DoesNotExist:
        raise Http404("No such reminder") from None
    if pipeline.reminder_done(reminder=reminder):
        messages.success(request, f"Done: {reminder.text}")
    return _back(request, _detail_url(reminder.prospect) + "#reminders")


def _detail_url(prospect: Prospect) -> str:
    return reverse("prospects:prospect-detail", args=[prospect.project_id, prospect.pk])


# --- the prospect page ------------------------------------------------------------------------------


@role_required(Role.OUTREACH)
@require_GET
def detail(request: HttpRequest, project_pk: int, pk: int) -> HttpResponse:
    """Gap evidence, contacts, notes, reminders and the stage timeline of one prospect."""
    project = project_get_for_user(request.user, project_pk)
    try:
        info = selectors.prospect_detail(project=project, prospect_id=pk)
    except Prospect.DoesNotExist:
        raise Http404("No such prospect") from None
    prospect = info.prospect
    members = selectors.project_members(project)
    return render(
        request,
        "prospects/prospect_detail.html",
        {
            "project": project,
            "prospect": prospect,
            "info": info,
            "here": request.get_full_path(),
            "contacts": contacts_of_prospect(prospect.pk),
            "move_form": MoveForm(initial={"to_stage": prospect.stage, "expected_from": prospect.stage}),
            "assign_form": AssignForm(initial={"assignee": prospect.assignee_id or ""}, members=members),
            "tags_form": TagsForm(initial={"tags": ", ".join(prospect.tags)}),
            "note_form": NoteForm(),
            "reminder_form": ReminderForm(members=members),
            "stages": Stage.choices,
            "reject_reasons": RejectReason.choices,
            "now": timezone.now(),
        },
    )


# --- adding prospects ------------------------------------------------------------------------------


@role_required(Role.OUTREACH)
@require_http_methods(["GET", "POST"])
def add(request: HttpRequest, pk: int) -> HttpResponse:
    """Type or paste domains; shows what was created, merged, refused and why."""
    project = project_get_for_user(request.user, pk)
    form = AddProspectsForm(request.POST or None, members=selectors.project_members(project))
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            result = creation.prospects_add_manually(
                project=project,
                text=form.cleaned_data["domains"],
                created_by=request.user,
                assignee=form.assignee_user(),
                tags=pipeline.tags_parse(form.cleaned_data["tags"]),
            )
        except PipelineError as exc:
            form.add_error("tags", str(exc))
        else:
            form = AddProspectsForm(members=selectors.project_members(project))
    return render(
        request, "prospects/prospect_add.html", {"project": project, "form": form, "result": result}
    )


@role_required(Role.OUTREACH)
@require_http_methods(["GET", "POST"])
def import_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload a CSV of prospects; the report lists every line that was merged, refused or skipped."""
    project = project_get_for_user(request.user, pk)
    form = ImportCsvForm(request.POST or None, request.FILES or None)
    result, refused = None, None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > MAX_BYTES:
                raise CsvRefused(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
            result = creation.prospects_import_csv(
                project=project, data=upload.read(), created_by=request.user
            )
        except CsvRefused as exc:
            refused = str(exc)
    return render(
        request,
        "prospects/prospect_import.html",
        {
            "project": project,
            "form": form,
            "result": result,
            "refused": refused,
        },
    )


urlpatterns = [
    path("projects/<int:pk>/board/", board, name="board"),
    path("projects/<int:pk>/board/column/", board_column, name="board-column"),
    path("projects/<int:pk>/prospects/", table, name="prospect-table"),
    path("projects/<int:pk>/prospects/bulk/", bulk, name="prospect-bulk"),
    path("projects/<int:pk>/prospects/add/", add, name="prospect-add"),
    path("projects/<int:pk>/prospects/import/", import_csv, name="prospect-import"),
    path("projects/<int:project_pk>/prospects/<int:pk>/", detail, name="prospect-detail"),
    path("projects/<int:project_pk>/prospects/<int:pk>/move/", move, name="prospect-move"),
    path("projects/<int:project_pk>/prospects/<int:pk>/assign/", assign, name="prospect-assign"),
    path("projects/<int:project_pk>/prospects/<int:pk>/tags/", tags, name="prospect-tags"),
    path("projects/<int:project_pk>/prospects/<int:pk>/notes/", note_add, name="prospect-note-add"),
    path(
        "projects/<int:project_pk>/prospects/<int:pk>/reminders/", reminder_add, name="prospect-reminder-add"
    ),
    path("projects/<int:project_pk>/reminders/<int:pk>/done/", reminder_done, name="reminder-done"),
]
