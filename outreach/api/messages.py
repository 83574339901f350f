"""Outbound messages over the API, read-only (the outbox is written by the sender only)."""

from __future__ import annotations

from rest_framework import serializers, viewsets
from rest_framework.routers import SimpleRouter

from linkcrm.choices import Role
from linkcrm.permissions import HasRole
from outreach.api.params import choice_param, int_param
from outreach.choices import OutboxStatus
from outreach.models import OutboundMessage
from outreach.selectors import outbound_for_user


class OutboundMessageSerializer(serializers.ModelSerializer):
    template_version = serializers.SerializerMethodField()

    class Meta:
        model = OutboundMessage
        fields = ["id", "mailbox", "enrollment", "step_position", "template_version", "prospect", "contact",
                  "from_address", "to_address", "subject", "text", "html", "message_id", "in_reply_to",
                  "references", "status", "due_at", "attempts", "sent_at", "smtp_code", "last_error", "created_at"]
        read_only_fields = fields

    def get_template_version(self, message: OutboundMessage) -> int | None:
        version = message.template_version
        return version.number if version else None


class OutboundMessageViewSet(viewsets.ReadOnlyModelViewSet):
    """Messages sent (or to be sent) to prospects the caller can see. ``?prospect=``, ``?status=``."""

    serializer_class = OutboundMessageSerializer
    queryset = OutboundMessage.objects.none()  # for the schema; rows come from get_queryset
    permission_classes = [HasRole]
    required_role = Role.OUTREACH

    def get_queryset(self):
        rows = outbound_for_user(self.request.user).order_by("-created_at", "-id")
        prospect = int_param(self.request, "prospect")
        if prospect is not None:
            rows = rows.filter(prospect_id=prospect)
        status = choice_param(self.request, "status", OutboxStatus.values)
        if status:
            rows = rows.filter(status=status)
        return rows


def register(router: SimpleRouter) -> None:
    router.register("outreach/messages", OutboundMessageViewSet, basename="outreach-message")
