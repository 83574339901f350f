"""The pipeline over the API: prospects (list, filter, retrieve, create, import), the board,
moves, assignment, tags, bulk actions, stage changes, notes and reminders.

Reads go through prospects.selectors.pipeline, writes through prospects.services; a caller
sees only prospects of projects they may see (404 otherwise). A move whose ``expected_from``
is stale answers 409 with the stage the prospect is in now.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.http import Http404
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from linkcrm.choices import Role
from linkcrm.permissions import HasRole
from prospects.api import board_serializers as s
from prospects.choices import PipelineKind, ProspectSource, Stage
from prospects.models import Project, Prospect, Reminder
from prospects.prospect_csv import MAX_BYTES, CsvRefused
from prospects.selectors import pipeline as selectors
from prospects.selectors.projects import project_get_for_user, project_list_for_user
from prospects.services import creation, pipeline
from prospects.services.pipeline import PipelineError, StageConflict

User = get_user_model()

FILTER_PARAMETERS = [
    OpenApiParameter("project", OpenApiTypes.INT, description="Only this project."),
    OpenApiParameter("stage", OpenApiTypes.STR, enum=Stage.values),
    OpenApiParameter("pipeline", OpenApiTypes.STR, enum=PipelineKind.values),
    OpenApiParameter("assignee", OpenApiTypes.STR, description="'me', 'none', a user id or a username."),
    OpenApiParameter("tag", OpenApiTypes.STR),
    OpenApiParameter("score_min", OpenApiTypes.INT),
    OpenApiParameter("score_max", OpenApiTypes.INT),
    OpenApiParameter("q", OpenApiTypes.STR, description="Domain contains."),
    OpenApiParameter("ordering", OpenApiTypes.STR, description="score, domain, stage, assignee, authority, "
                     "competitors, changed; '-' for descending (default -score)."),
]  # fmt: skip


def _project(user: AbstractBaseUser, value: Any) -> Project:
    try:
        return project_get_for_user(user, int(value))
    except (TypeError, ValueError):
        raise ValidationError({"project": "a project id is required"}) from None
    except Http404:
        raise NotFound("No such project.") from None


def _int_param(params: Any, name: str) -> int | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise ValidationError({name: "must be a whole number"}) from None


def _filters(request: Request) -> selectors.BoardFilters:
    params = request.query_params
    assignee = params.get("assignee", "")
    if assignee and assignee not in ("me", "none") and not assignee.isdigit():
        user = User.objects.filter(username=assignee).first()
        assignee = str(user.pk) if user else "0"  # an unknown name matches nobody
    pipeline_kind = params.get("pipeline") or PipelineKind.ACQUISITION
    if pipeline_kind not in PipelineKind.values:
        raise ValidationError({"pipeline": f"one of {', '.join(PipelineKind.values)}"})
    return selectors.BoardFilters(
        assignee=assignee,
        score_min=_int_param(params, "score_min"),
        score_max=_int_param(params, "score_max"),
        tag=params.get("tag", ""),
        q=params.get("q", ""),
        pipeline=pipeline_kind,
    )


def _member(project: Project, username: str | None) -> AbstractBaseUser | None:
    if not username:
        return None
    user = User.objects.filter(username=username, memberships__project=project, is_active=True).first()
    if user is None:
        raise ValidationError({"assignee": f"{username!r} is not an active member of {project.name}"})
    return user


class ProspectViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Prospects of the caller's projects, and everything done to them."""

    serializer_class = s.ProspectSerializer
    permission_classes = [HasRole]
    required_role = Role.OUTREACH
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_queryset(self) -> QuerySet[Prospect]:
        visible = project_list_for_user(self.request.user).values("pk")
        qs = Prospect.objects.filter(project__in=visible).select_related("assignee", "created_by")
        if self.action != "list":
            return qs
        filters = _filters(self.request)
        qs = qs.filter(pipeline=filters.pipeline)
        if self.request.query_params.get("project"):
            qs = qs.filter(project=_project(self.request.user, self.request.query_params["project"]))
        stage = self.request.query_params.get("stage", "")
        if stage:
            if stage not in Stage.values:
                raise ValidationError({"stage": f"one of {', '.join(Stage.values)}"})
            qs = qs.filter(stage=stage)
        qs = selectors.prospects_apply_filters(qs, filters=filters, user=self.request.user)
        return qs.order_by(*selectors.table_ordering(self.request.query_params.get("ordering", "-score")))

    @extend_schema(parameters=FILTER_PARAMETERS)
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def _prospect(self) -> Prospect:
        return self.get_object()

    @extend_schema(request=s.ProspectCreateSerializer, responses={201: s.CreationResultSerializer})
    def create(self, request: Request) -> Response:
        """Create prospects from domains or URLs (up to 50,000 at once); reports merges and refusals."""
        data = self._valid(s.ProspectCreateSerializer, request.data)
        project = _project(request.user, data["project"])
        try:
            result = creation.prospects_create(
                project=project,
                domains=data["domains"],
                source=ProspectSource.MANUAL,
                created_by=request.user,
                assignee=_member(project, data["assignee"]),
                tags=pipeline.tags_normalise(data["tags"]),
            )
        except PipelineError as exc:
            raise ValidationError({"detail": str(exc)}) from None
        return Response(s.CreationResultSerializer(result).data, status=status.HTTP_201_CREATED)

    @staticmethod
    def _valid(serializer_class: type, data: Any) -> dict[str, Any]:
        serializer = serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(request=s.MoveSerializer, responses={200: s.ProspectSerializer, 409: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"])
    def move(self, request: Request, pk: str | None = None) -> Response:
        """Move the prospect as the caller; 409 with ``actual`` when ``expected_from`` is stale."""
        prospect = self._prospect()
        data = self._valid(s.MoveSerializer, request.data)
        try:
            pipeline.prospect_move_stage(
                prospect_id=prospect.pk,
                to_stage=data["to_stage"],
                expected_from=data["expected_from"],
                actor=request.user,
                reason=data["reason"],
                reject_reason=data["reject_reason"],
                linking_page_url=data["linking_page_url"],
            )
        except StageConflict as exc:
            return Response({"detail": str(exc), "actual": exc.actual}, status=status.HTTP_409_CONFLICT)
        except PipelineError as exc:
            raise ValidationError({"detail": str(exc)}) from None
        return Response(s.ProspectSerializer(self.get_queryset().get(pk=prospect.pk)).data)

    @extend_schema(request=s.AssignSerializer, responses=s.ProspectSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str | None = None) -> Response:
        prospect = self._prospect()
        data = self._valid(s.AssignSerializer, request.data)
        pipeline.prospect_assign(prospect=prospect, assignee=_member(prospect.project, data["assignee"]))
        return Response(s.ProspectSerializer(self.get_queryset().get(pk=prospect.pk)).data)

    @extend_schema(request=s.TagsSerializer, responses=s.ProspectSerializer)
    @action(detail=True, methods=["put"])
    def tags(self, request: Request, pk: str | None = None) -> Response:
        prospect = self._prospect()
        data = self._valid(s.TagsSerializer, request.data)
        try:
            pipeline.prospect_set_tags(prospect=prospect, tags=data["tags"])
        except PipelineError as exc:
            raise ValidationError({"tags": str(exc)}) from None
        return Response(s.ProspectSerializer(self.get_queryset().get(pk=prospect.pk)).data)

    @extend_schema(responses=s.StageChangeSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="stage-changes")
    def stage_changes(self, request: Request, pk: str | None = None) -> Response:
        """The prospect's timeline, oldest first."""
        changes = self._prospect().stage_changes.select_related("actor").order_by("created_at", "id")
        return Response(s.StageChangeSerializer(changes, many=True).data)

    @extend_schema(methods=["get"], responses=s.NoteSerializer(many=True))
    @extend_schema(methods=["post"], request=s.NoteSerializer, responses={201: s.NoteSerializer})
    @action(detail=True, methods=["get", "post"])
    def notes(self, request: Request, pk: str | None = None) -> Response:
        prospect = self._prospect()
        if request.method == "GET":
            notes = prospect.notes.select_related("author").order_by("-created_at", "-id")
            return Response(s.NoteSerializer(notes, many=True).data)
        data = self._valid(s.NoteSerializer, request.data)
        try:
            note = pipeline.note_add(prospect=prospect, author=request.user, body=data["body"])
        except PipelineError as exc:
            raise ValidationError({"body": str(exc)}) from None
        return Response(s.NoteSerializer(note).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["get"], responses=s.ReminderSerializer(many=True))
    @extend_schema(methods=["post"], request=s.ReminderSerializer, responses={201: s.ReminderSerializer})
    @action(detail=True, methods=["get", "post"])
    def reminders(self, request: Request, pk: str | None = None) -> Response:
        prospect = self._prospect()
        if request.method == "GET":
            reminders = prospect.reminders.select_related("assignee", "created_by", "prospect").order_by(
                "due_at"
            )
            return Response(s.ReminderSerializer(reminders, many=True).data)
        data = self._valid(s.ReminderSerializer, request.data)
        username = (data.get("assignee") or {}).get("username")
        try:
            reminder = pipeline.reminder_add(
                prospect=prospect,
                due_at=data["due_at"],
                text=data["text"],
                created_by=request.user,
                assignee=_member(prospect.project, username),
            )
        except PipelineError as exc:
            raise ValidationError({"detail": str(exc)}) from None
        return Response(s.ReminderSerializer(reminder).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.BulkMoveSerializer, responses=s.BulkResultSerializer)
    @action(detail=False, methods=["post"], url_path="bulk-move")
    def bulk_move(self, request: Request) -> Response:
        """Move many prospects of one project; each is guarded on its own, the rest reported as skipped."""
        data = self._valid(s.BulkMoveSerializer, request.data)
        project = _project(request.user, data["project"])
        try:
            result = pipeline.prospects_bulk_move(
                project=project,
                prospect_ids=data["ids"],
                to_stage=data["to_stage"],
                actor=request.user,
                reason=data["reason"],
                reject_reason=data["reject_reason"],
            )
        except PipelineError as exc:
            raise ValidationError({"detail": str(exc)}) from None
        return Response(s.BulkResultSerializer(result).data)

    @extend_schema(request=s.BulkAssignSerializer, responses=s.BulkResultSerializer)
    @action(detail=False, methods=["post"], url_path="bulk-assign")
    def bulk_assign(self, request: Request) -> Response:
        data = self._valid(s.BulkAssignSerializer, request.data)
        project = _project(request.user, data["project"])
        result = pipeline.prospects_assign(
            project=project, prospect_ids=data["ids"], assignee=_member(project, data["assignee"])
        )
        return Response(s.BulkResultSerializer(result).data)

    @extend_schema(
        parameters=[*FILTER_PARAMETERS[:1], *FILTER_PARAMETERS[2:8],
                    OpenApiParameter("page_size", OpenApiTypes.INT, description="Cards per column, max 100."),
                    *(OpenApiParameter(f"off_{stage}", OpenApiTypes.INT) for stage in Stage.values)],
        responses=s.BoardColumnSerializer(many=True),
    )  # fmt: skip
    @action(detail=False, methods=["get"])
    def board(self, request: Request) -> Response:
        """The board of one project: every stage with its count and a page of cards."""
        project = _project(request.user, request.query_params.get("project"))
        page_size = min(
            max(_int_param(request.query_params, "page_size") or selectors.BOARD_PAGE_SIZE, 1), 100
        )
        offsets = {
            stage: max(_int_param(request.query_params, f"off_{stage}") or 0, 0) for stage in Stage.values
        }
        columns = selectors.board_columns(
            project=project,
            filters=_filters(request),
            user=request.user,
            page_size=page_size,
            offsets=offsets,
        )
        return Response(s.BoardColumnSerializer(columns, many=True).data)

    @extend_schema(request={"multipart/form-data": s.CsvImportSerializer}, responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["post"], url_path="import-csv")
    def import_csv(self, request: Request) -> Response:
        """Import a CSV of prospects (format: prospects.prospect_csv); reports each line it did not take."""
        data = self._valid(s.CsvImportSerializer, request.data)
        project = _project(request.user, data["project"])
        upload = data["file"]
        try:
            if upload.size > MAX_BYTES:
                raise CsvRefused(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
            result = creation.prospects_import_csv(
                project=project, data=upload.read(), created_by=request.user
            )
        except CsvRefused as exc:
            return Response({"detail": str(exc), "line": exc.line}, status=status.HTTP_400_BAD_REQUEST)

        def issues(items: list[creation.LineIssue]) -> list[dict[str, Any]]:
            return [{"line": i.line, "field": i.field, "message": i.message} for i in items]

        return Response({
            "rows": result.rows, "created": result.created, "merged": issues(result.merged),
            "suppressed": issues(result.suppressed), "errors": issues(result.errors),
        }, status=status.HTTP_201_CREATED)  # fmt: skip


class ReminderViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's own open reminders (``due_before`` narrows them); mark one done."""

    serializer_class = s.ReminderSerializer
    permission_classes = [HasRole]
    required_role = Role.OUTREACH

    def get_queryset(self) -> QuerySet[Reminder]:
        visible = project_list_for_user(self.request.user).values("pk")
        qs = Reminder.objects.filter(prospect__project__in=visible).select_related(
            "prospect", "assignee", "created_by"
        )
        if self.action == "list":
            qs = qs.filter(assignee=self.request.user, done_at__isnull=True)
            due_before = self.request.query_params.get("due_before")
            if due_before:
                moment = parse_datetime(due_before)
                if moment is None:
                    raise ValidationError({"due_before": "an ISO 8601 date and time"})
                qs = qs.filter(due_at__lt=moment)
        return qs.order_by("due_at", "id")

    @extend_schema(parameters=[OpenApiParameter("due_before", OpenApiTypes.DATETIME)])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=None, responses=s.ReminderSerializer)
    @action(detail=True, methods=["post"])
    def done(self, request: Request, pk: str | None = None) -> Response:
        reminder = self.get_object()
        pipeline.reminder_done(reminder=reminder)
        return Response(s.ReminderSerializer(reminder).data)


def register(router: SimpleRouter) -> None:
    """Add this module's viewsets to the API router."""
    router.register("prospects", ProspectViewSet, basename="prospect")
    router.register("reminders", ReminderViewSet, basename="reminder")
