"""Projects over the API: reads through selectors, writes through services."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from linkcrm.choices import Role
from linkcrm.permissions import HasRole
from prospects.api.project_serializers import MembersSerializer, ProjectSerializer
from prospects.selectors.projects import project_list_for_user
from prospects.services.projects import project_create, project_set_members


class ProjectViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Projects the caller may see; managers create projects and set members."""

    serializer_class = ProjectSerializer
    permission_classes = [HasRole]
    required_role = Role.OUTREACH

    def get_queryset(self):
        return project_list_for_user(self.request.user).prefetch_related("members").select_related("created_by")

    def get_permissions(self):
        # Writes need a manager; reads any role (membership is enforced by the queryset).
        self.required_role = Role.OUTREACH if self.action in {"list", "retrieve"} else Role.MANAGER
        return super().get_permissions()

    def create(self, request: Request) -> Response:
        serializer = ProjectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project = project_create(
            name=serializer.validated_data["name"],
            description=serializer.validated_data.get("description", ""),
            created_by=request.user,
            members=[request.user],
        )
        return Response(ProjectSerializer(project).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MembersSerializer, responses=ProjectSerializer)
    @action(detail=True, methods=["put"])
    def members(self, request: Request, pk: str | None = None) -> Response:
        project = self.get_object()
        serializer = MembersSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project_set_members(project=project, users=serializer.validated_data["usernames"], changed_by=request.user)
        # Re-read: get_object() prefetched the old member list.
        return Response(ProjectSerializer(self.get_queryset().get(pk=project.pk)).data)


def register(router) -> None:
    router.register("projects", ProjectViewSet, basename="project")
