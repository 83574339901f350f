"""Acquired-link monitoring over the API (registered by prospects/api/urls.py).

``/api/acquired-links/`` lists the links of the caller's projects (``?project=``,
``?prospect=``, ``?status=``); ``…/{id}/checks/`` is a link's check history, newest first;
``POST …/{id}/check/`` queues a check now (202); ``POST …/{id}/reclaim/`` moves the prospect
of a confirmed loss back to To Contact. Reads through prospects.selectors.monitoring,
writes through prospects.services.monitoring.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from linkcrm.choices import Role
from linkcrm.permissions import HasRole
from prospects.choices import LinkStatus
from prospects.models import AcquiredLink, LinkCheck
from prospects.selectors import monitoring as selectors
from prospects.services.monitoring import (
    MonitoringError,
    acquired_link_check_now,
    acquired_link_reclaim,
)
from prospects.services.pipeline import StageConflict


class AcquiredLinkSerializer(serializers.ModelSerializer):
    project = serializers.IntegerField(source="prospect.project_id", read_only=True)
    domain = serializers.CharField(source="prospect.domain", read_only=True)

    class Meta:
        model = AcquiredLink
        fields = [
            "id", "prospect", "project", "domain", "page_url", "host", "status", "last_outcome", "failures",
            "anchor", "rel", "target_url", "last_checked_at", "last_live_at", "next_check_at",
            "loss_confirmed_at", "reclaimed_at",
        ]  # fmt: skip
        read_only_fields = fields


class LinkCheckSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(read_only=True, slug_field="username")

    class Meta:
        model = LinkCheck
        fields = [
            "id", "link", "checked_at", "page_url", "final_url", "outcome", "status_before", "status_after",
            "failures", "http_status", "target_url", "anchor", "rel", "matching_links", "noindex",
            "noindex_source", "canonical", "error", "actor", "automation",
        ]  # fmt: skip
        read_only_fields = fields


class ReclaimSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ReclaimResultSerializer(serializers.Serializer):
    link = AcquiredLinkSerializer()
    stage = serializers.CharField()
    stage_change = serializers.IntegerField()


_FILTERS = [
    OpenApiParameter("project", OpenApiTypes.INT),
    OpenApiParameter("prospect", OpenApiTypes.INT),
    OpenApiParameter("status", OpenApiTypes.STR, enum=LinkStatus.values),
]


@extend_schema_view(list=extend_schema(parameters=_FILTERS))
class AcquiredLinkViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Acquired links of the caller's projects, with their check history and actions."""

    serializer_class = AcquiredLinkSerializer
    permission_classes = [HasRole]
    required_role = Role.OUTREACH

    def get_queryset(self):
        links = selectors.acquired_links_for_user(self.request.user).order_by("id")
        params = self.request.query_params
        for parameter, lookup in (("project", "prospect__project_id"), ("prospect", "prospect_id")):
            value = params.get(parameter)
            if value is not None:
                if not value.isdigit():
                    raise ValidationError({parameter: ["must be a number"]})
                links = links.filter(**{lookup: int(value)})
        if params.get("status"):
            if params["status"] not in LinkStatus.values:
                raise ValidationError({"status": [f"one of {', '.join(LinkStatus.values)}"]})
            links = links.filter(status=params["status"])
        return links

    @extend_schema(responses=LinkCheckSerializer(many=True))
    @action(detail=True, methods=["get"])
    def checks(self, request: Request, pk: str | None = None) -> Response:
        """The link's checks, newest first (the latest 200)."""
        link = self.get_object()
        return Response(LinkCheckSerializer(selectors.link_checks(link.pk, limit=200), many=True).data)

    @extend_schema(request=None, responses={202: AcquiredLinkSerializer})
    @action(detail=True, methods=["post"])
    def check(self, request: Request, pk: str | None = None) -> Response:
        """Queue a check of the link now (paced per host like every check)."""
        link = self.get_object()
        try:
            acquired_link_check_now(link=link, actor=request.user)
        except MonitoringError as exc:
            raise ValidationError({"detail": str(exc)}) from None
        return Response(AcquiredLinkSerializer(link).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=ReclaimSerializer, responses={200: ReclaimResultSerializer, 409: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"])
    def reclaim(self, request: Request, pk: str | None = None) -> Response:
        """Move the prospect of a confirmed loss back to To Contact; 409 when it moved meanwhile."""
        link = self.get_object()
        data = ReclaimSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            change = acquired_link_reclaim(link_id=link.pk, actor=request.user, reason=data.validated_data["reason"])
        except MonitoringError as exc:
            raise ValidationError({"detail": str(exc)}) from None
        except StageConflict as exc:
            return Response({"detail": str(exc), "actual": exc.actual}, status=status.HTTP_409_CONFLICT)
        link = self.get_queryset().get(pk=link.pk)
        body = {"link": AcquiredLinkSerializer(link).data, "stage": change.to_stage, "stage_change": change.pk}
        return Response(body)


def register(router: SimpleRouter) -> None:
    """Add this module's viewsets to the API router."""
    router.register("acquired-links", AcquiredLinkViewSet, basename="acquired-link")
