"""The inbox over the API: inbound messages the caller may see (needing attention by default)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from linkcrm.choices import Role
from linkcrm.permissions import HasRole
from outreach.api.params import choice_param, int_param
from outreach.choices import MessageKind
from outreach.models import InboundMessage
from outreach.selectors import inbox_for_user
from outreach.services.inbox_actions import inbound_mark_handled


class InboundMessageSerializer(serializers.ModelSerializer):
    handled_by = serializers.SlugRelatedField(read_only=True, slug_field="username")

    class Meta:
        model = InboundMessage
        fields = ["id", "mailbox", "folder", "message_id", "from_address", "from_name", "subject", "date", "text",
                  "kind", "kind_reason", "failed_recipient", "permanent", "status_code", "return_date",
                  "match_method", "match_detail", "matched_message", "enrollment", "prospect", "needs_attention",
                  "handled_by", "handled_at", "received_at"]
        read_only_fields = fields


@extend_schema(parameters=[
    OpenApiParameter("mailbox", int), OpenApiParameter("project", int),
    OpenApiParameter("kind", str, enum=MessageKind.values),
    OpenApiParameter("all", bool, description="Include handled messages."),
])
class InboxViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = InboundMessageSerializer
    queryset = InboundMessage.objects.none()  # for the schema; rows come from get_queryset
    permission_classes = [HasRole]
    required_role = Role.OUTREACH

    def get_queryset(self):
        request = self.request
        kind = choice_param(request, "kind", MessageKind.values)
        attention_only = self.action == "list" and request.query_params.get("all") not in ("1", "true")
        return inbox_for_user(
            request.user, mailbox_id=int_param(request, "mailbox"), project_id=int_param(request, "project"),
            kind=kind, attention_only=attention_only,
        ).order_by("-received_at", "-id")

    @extend_schema(request=None, responses=InboundMessageSerializer)
    @action(detail=True, methods=["post"])
    def handled(self, request: Request, pk: str | None = None) -> Response:
        """Mark handled (clears needs_attention; the first person to do so is recorded)."""
        message = self.get_object()
        inbound_mark_handled(message_id=message.pk, by=request.user)
        message.refresh_from_db()
        return Response(InboundMessageSerializer(message).data)


def register(router: SimpleRouter) -> None:
    router.register("outreach/inbox", InboxViewSet, basename="outreach-inbox")
