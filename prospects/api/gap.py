"""The gap API of a project (registered by prospects/api/urls.py through ``register``).

- ``GET  /api/projects/{id}/gap/`` rows of a tab with the page's filters, sort and paging, and
  every tab's count (same query parameters as the page: tab, q, tld, country, authority_min,
  authority_max, min_competitors, follow_only, show_prospects, show_toxic, show_suppressed,
  sort, page, per_page);
- ``GET  /api/projects/{id}/gap/export/`` the same rows, all pages, as formula-safe CSV;
- ``POST /api/projects/{id}/gap/prospects/`` prospects from given rows (members);
- ``POST /api/projects/{id}/gap/prospects-from-filter/`` from every matching row (managers);
- ``POST /api/projects/{id}/gap/import/`` a gap export, multipart (managers);
- ``/api/projects/{id}/competitors/`` list, add (managers), ``…/{site_id}/`` remove (managers);
- ``/api/projects/{id}/target-pages/`` list, add, ``…/{id}/`` remove (managers to change);
- ``GET/PATCH /api/projects/{id}/settings/`` site, brand terms, keywords, score weights.

Every endpoint answers 404 for a project the caller is not a member of (managers see all).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.db import transaction
from django.http import QueryDict, StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from audit.importers.base import ImportRefused
from linkcrm.choices import Role
from linkcrm.permissions import HasRole
from prospects.api import gap_serializers as s
from prospects.forms import GapFilterForm
from prospects.gap_import import GapMapping, gap_import
from prospects.models import Project
from prospects.selectors.gap import gap_page, gap_sites
from prospects.selectors.projects import project_get_for_user
from prospects.services import projects as project_services
from prospects.services.gap_prospects import prospects_create_from_gap_filter, prospects_create_from_gap_rows
from prospects.services.scoring import project_weights
from prospects.views.gap import check_upload_size, csv_lines, parse_query

PROJECT = r"projects/(?P<project_pk>[0-9]+)"
_ID = OpenApiParameter("id", int, OpenApiParameter.PATH)
_INTEGERS = {"authority_min", "authority_max", "min_competitors", "page", "per_page"}
_FLAGS = {"follow_only", "show_prospects", "show_toxic", "show_suppressed"}
def _parameter(name: str, label: object) -> OpenApiParameter:
    kind = int if name in _INTEGERS else bool if name in _FLAGS else str
    return OpenApiParameter(name, kind, description=str(label or ""))


# The page's filters, as query parameters (prospects.forms.GapFilterForm reads them).
GAP_PARAMETERS = [_parameter(name, field.label) for name, field in GapFilterForm.base_fields.items()]


class _ProjectScoped(viewsets.ViewSet):
    """A viewset under one project: members only (404 otherwise); writes need ``write_role``."""

    permission_classes = [HasRole]
    required_role = Role.OUTREACH
    write_role = Role.MANAGER
    lookup_value_regex = "[0-9]+"
    read_actions: frozenset[str] = frozenset({"list", "retrieve"})

    def get_permissions(self):  # type: ignore[no-untyped-def]
        self.required_role = Role.OUTREACH if self.action in self.read_actions else self.write_role
        return super().get_permissions()

    def project(self) -> Project:
        return project_get_for_user(self.request.user, int(self.kwargs["project_pk"]))


def _bad_settings(exc: project_services.ProjectSettingsError) -> ValidationError:
    return ValidationError({"detail": str(exc)})


class GapViewSet(_ProjectScoped):
    """The gap's rows and the actions on them."""

    read_actions = frozenset({"list", "export"})
    write_role = Role.OUTREACH

    def get_permissions(self):  # type: ignore[no-untyped-def]
        if self.action in {"prospects_from_filter", "import_export"}:
            self.required_role = Role.MANAGER
            return [permission() for permission in self.permission_classes]
        return super().get_permissions()

    @extend_schema(parameters=GAP_PARAMETERS, responses=s.GapPageSerializer)
    def list(self, request: Request, project_pk: str) -> Response:
        project = self.project()
        form, query = parse_query(request.query_params)
        if form.errors:
            raise ValidationError(form.errors)
        result = gap_page(project, query)
        return Response({
            "count": result.page.total, "page": result.page.page, "per_page": result.page.per_page,
            "num_pages": result.page.num_pages, "tab": result.query.tab, "counts": result.counts,
            "sites": s.sites_data(result.sites),
            "results": [s.row_data(row, result.sites) for row in result.page.rows],
        })  # fmt: skip

    @extend_schema(parameters=GAP_PARAMETERS, responses={(200, "text/csv"): bytes})
    @action(detail=False, methods=["get"])
    def export(self, request: Request, project_pk: str) -> StreamingHttpResponse:
        project = self.project()
        _, query = parse_query(request.query_params)
        response = StreamingHttpResponse(csv_lines(project, query), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="gap-{project.pk}-{query.tab}.csv"'
        return response

    @extend_schema(request=s.CreateFromRowsSerializer, responses=s.CreationReportSerializer)
    @action(detail=False, methods=["post"], url_path="prospects")
    def prospects(self, request: Request, project_pk: str) -> Response:
        project = self.project()
        data = s.CreateFromRowsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = prospects_create_from_gap_rows(
            project=project, domains=data.validated_data["domains"], created_by=request.user
        )
        return Response(
            asdict(report), status=status.HTTP_201_CREATED if report.created else status.HTTP_200_OK
        )

    @extend_schema(request=s.CreateFromFilterSerializer, responses=s.CreationReportSerializer)
    @action(detail=False, methods=["post"], url_path="prospects-from-filter")
    def prospects_from_filter(self, request: Request, project_pk: str) -> Response:
        project = self.project()
        data = s.CreateFromFilterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        params = QueryDict(mutable=True)
        for name, value in data.validated_data["filters"].items():
            params[name] = value
        form, query = parse_query(params)
        if form.errors:
            raise ValidationError({"filters": form.errors})
        report = prospects_create_from_gap_filter(project=project, query=query, created_by=request.user)
        return Response(
            asdict(report), status=status.HTTP_201_CREATED if report.created else status.HTTP_200_OK
        )

    @extend_schema(
        request={"multipart/form-data": s.GapImportSerializer}, responses=s.GapImportResultSerializer
    )
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser])
    def import_export(self, request: Request, project_pk: str) -> Response:
        project = self.project()
        data = s.GapImportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        mapping = None
        if values.get("domain_column") or values.get("target_columns"):
            mapping = GapMapping(
                domain=values.get("domain_column", ""), targets=values.get("target_columns", {}),
                authority=values.get("authority_column", ""), authority_scale=values["authority_scale"],
            )  # fmt: skip
        upload = values["file"]
        try:
            check_upload_size(upload.size or 0)
            result = gap_import(project=project, stream=upload, file_name=upload.name or "gap.csv",
                                created_by=request.user, mapping=mapping)  # fmt: skip
        except ImportRefused as exc:
            body: dict[str, Any] = {"detail": exc.message}
            if exc.line is not None:
                body["line"] = exc.line
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return Response(asdict(result), status=status.HTTP_201_CREATED)


class CompetitorViewSet(_ProjectScoped):
    """The project's competitors: any number; removing one keeps its link data in audit."""

    @extend_schema(responses=s.GapSiteSerializer(many=True))
    def list(self, request: Request, project_pk: str) -> Response:
        sites = gap_sites(self.project())
        return Response([site for site in s.sites_data(sites) if site["role"] == "competitor"])

    @extend_schema(request=s.CompetitorsAddSerializer, responses=s.CompetitorsAddedSerializer)
    def create(self, request: Request, project_pk: str) -> Response:
        project = self.project()
        data = s.CompetitorsAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = project_services.project_add_competitors(
            project=project, values=data.validated_data["domains"]
        )
        return Response(
            asdict(result), status=status.HTTP_201_CREATED if result.added else status.HTTP_200_OK
        )

    @extend_schema(parameters=[_ID], responses={204: None, 404: None})
    def destroy(self, request: Request, project_pk: str, pk: str) -> Response:
        project = self.project()
        if not pk.isdigit() or not project_services.project_remove_competitor(
            project=project, site_id=int(pk)
        ):
            return Response({"detail": "not a competitor of this project"}, status=status.HTTP_404_NOT_FOUND)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TargetPageViewSet(_ProjectScoped):
    """Pages of the project's site that outreach asks links to."""

    @extend_schema(responses=s.TargetPageSerializer(many=True))
    def list(self, request: Request, project_pk: str) -> Response:
        return Response(s.TargetPageSerializer(self.project().target_pages.all(), many=True).data)

    @extend_schema(request=s.TargetPageSerializer, responses=s.TargetPageSerializer)
    def create(self, request: Request, project_pk: str) -> Response:
        project = self.project()
        data = s.TargetPageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            page = project_services.project_add_target_page(
                project=project, url=data.validated_data["url"], label=data.validated_data.get("label", "")
            )
        except project_services.ProjectSettingsError as exc:
            raise _bad_settings(exc) from None
        return Response(s.TargetPageSerializer(page).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[_ID], responses={204: None, 404: None})
    def destroy(self, request: Request, project_pk: str, pk: str) -> Response:
        project = self.project()
        if not pk.isdigit() or not project_services.project_remove_target_page(
            project=project, target_page_id=int(pk)
        ):
            return Response(
                {"detail": "no such target page in this project"}, status=status.HTTP_404_NOT_FOUND
            )
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProjectSettingsViewSet(_ProjectScoped):
    """What the project promotes and how prospects are scored; PATCH changes only what it names."""

    # The action is not called "settings": that name is DRF's own attribute on every view.

    def get_permissions(self):  # type: ignore[no-untyped-def]
        self.required_role = Role.OUTREACH if self.request.method == "GET" else Role.MANAGER
        return [permission() for permission in self.permission_classes]

    @extend_schema(methods=["GET"], responses=s.ProjectSettingsSerializer)
    @extend_schema(
        methods=["PATCH"], request=s.ProjectSettingsSerializer, responses=s.ProjectSettingsSerializer
    )
    @action(detail=False, methods=["get", "patch"], url_path="settings")
    def project_settings(self, request: Request, project_pk: str) -> Response:
        project = self.project()
        if request.method == "PATCH":
            data = s.ProjectSettingsSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            try:
                _apply_settings(project, data.validated_data)
            except project_services.ProjectSettingsError as exc:
                raise _bad_settings(exc) from None
            project.refresh_from_db()
        return Response({
            "site": project.site.domain if project.site_id else None, "brand_terms": project.brand_terms,
            "keywords": project.keywords, "score_weights": project_weights(project),
        })  # fmt: skip


@transaction.atomic
def _apply_settings(project: Project, values: dict[str, Any]) -> None:
    """Every named setting, all or none."""
    if "site" in values:
        project_services.project_set_site(project=project, domain_or_url=values["site"] or "")
    if "brand_terms" in values:
        project_services.project_set_brand_terms(project=project, terms=values["brand_terms"])
    if "keywords" in values:
        project_services.project_set_keywords(project=project, keywords=values["keywords"])
    if "score_weights" in values:
        project_services.project_set_score_weights(project=project, weights=values["score_weights"])


def register(router: SimpleRouter) -> None:
    """Add this module's viewsets to the API router."""
    router.register(f"{PROJECT}/gap", GapViewSet, basename="project-gap")
    router.register(f"{PROJECT}/competitors", CompetitorViewSet, basename="project-competitor")
    router.register(f"{PROJECT}/target-pages", TargetPageViewSet, basename="project-target-page")
    router.register(PROJECT, ProjectSettingsViewSet, basename="project-settings")
