"""Link removal requests over the API: the same service as the audit page's button."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from audit.models import Site
from audit.review import ReviewError
from linkcrm.choices import Role
from linkcrm.permissions import HasRole
from prospects.models import Project
from prospects.services.removal import RemovalError, removal_request


class RemovalRequestSerializer(serializers.Serializer):
    site = serializers.PrimaryKeyRelatedField(queryset=Site.objects.all())
    project = serializers.IntegerField(required=False, help_text="Needed when several projects promote the site.")
    domains = serializers.ListField(child=serializers.CharField(max_length=253), required=False, default=list)
    links = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs["domains"] and not attrs["links"]:
            raise serializers.ValidationError("Give domains and/or links.")
        return attrs


class RemovalResultSerializer(serializers.Serializer):
    project = serializers.IntegerField()
    decisions = serializers.IntegerField()
    created = serializers.IntegerField()
    created_ids = serializers.ListField(child=serializers.IntegerField())
    duplicates = serializers.ListField(child=serializers.CharField())


class RemovalRequestViewSet(viewsets.ViewSet):
    """POST: mark domains/links "Removal requested" and create link-removal prospects (managers)."""

    permission_classes = [HasRole]
    required_role = Role.MANAGER

    @extend_schema(request=RemovalRequestSerializer, responses={201: RemovalResultSerializer})
    def create(self, request: Request) -> Response:
        data = RemovalRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        site = data.validated_data["site"]
        project_id = data.validated_data.get("project")
        project = get_object_or_404(Project, pk=project_id, site=site) if project_id else None
        try:
            result = removal_request(site=site, user=request.user, reason=data.validated_data["reason"],
                                     domains=data.validated_data["domains"], backlink_ids=data.validated_data["links"],
                                     project=project)  # fmt: skip
        except (RemovalError, ReviewError) as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        body = {"project": result.project.pk, "decisions": len(result.decisions), "created": result.creation.created,
                "created_ids": result.creation.created_ids, "duplicates": result.creation.duplicates}  # fmt: skip
        return Response(RemovalResultSerializer(body).data, status=status.HTTP_201_CREATED)


def register(router: Any) -> None:
    router.register("removal-requests", RemovalRequestViewSet, basename="removal-request")
