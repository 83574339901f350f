"""Mailboxes over the API: passwords are write-only (accepted, never returned); connection test.

Everyone manages their own mailboxes; admins everyone's (same selectors as the pages).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from linkcrm.choices import Role
from linkcrm.permissions import HasRole
from outreach.models import Mailbox
from outreach.selectors import mailboxes_managed_by
from outreach.services.mailboxes import (
    EDITABLE_FIELDS,
    MailboxError,
    mailbox_create,
    mailbox_set_paused,
    mailbox_test_connection,
    mailbox_update,
)


class MailboxSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(read_only=True, slug_field="username")
    smtp_password = serializers.CharField(write_only=True, required=False, allow_blank=True, trim_whitespace=False,
                                          help_text="Write-only. Blank or absent on update keeps the stored one.")
    imap_password = serializers.CharField(write_only=True, required=False, allow_blank=True, trim_whitespace=False,
                                          help_text="Write-only. Blank: the SMTP password (create) or unchanged.")
    has_smtp_password = serializers.SerializerMethodField()
    has_imap_password = serializers.SerializerMethodField()
    window_days = serializers.ListField(child=serializers.IntegerField(min_value=0, max_value=6),
                                        required=False, allow_empty=False)
    watch_folders = serializers.ListField(child=serializers.CharField(max_length=200), required=False,
                                          allow_empty=False)

    class Meta:
        model = Mailbox
        fields = ["id", "owner", *EDITABLE_FIELDS, "smtp_password", "imap_password", "has_smtp_password",
                  "has_imap_password", "status", "paused_reason", "paused_at", "created_at"]
        read_only_fields = ["id", "owner", "status", "paused_reason", "paused_at", "created_at"]

    def get_has_smtp_password(self, mailbox: Mailbox) -> bool:
        return bool(mailbox.smtp_password)

    def get_has_imap_password(self, mailbox: Mailbox) -> bool:
        return bool(mailbox.imap_password)


class ConnectionReportSerializer(serializers.Serializer):
    smtp_ok = serializers.BooleanField()
    smtp_message = serializers.CharField()
    imap_ok = serializers.BooleanField(allow_null=True)
    imap_message = serializers.CharField()
    folders = serializers.ListField(child=serializers.CharField())
    auth_failed = serializers.BooleanField()
    warnings = serializers.ListField(child=serializers.CharField())


class PauseSerializer(serializers.Serializer):
    paused = serializers.BooleanField()


def _mailbox_error(exc: MailboxError) -> ValidationError:
    return ValidationError({exc.field: [str(exc)]})


class MailboxViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's mailboxes (admins: all)."""

    serializer_class = MailboxSerializer
    queryset = Mailbox.objects.none()  # for the schema; rows come from get_queryset
    permission_classes = [HasRole]
    required_role = Role.OUTREACH

    def get_queryset(self):
        return mailboxes_managed_by(self.request.user).order_by("name", "id")

    def _split(self, request: Request, *, partial: bool) -> tuple[dict, str, str]:
        data = MailboxSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        return values, values.pop("smtp_password", ""), values.pop("imap_password", "")

    def create(self, request: Request) -> Response:
        values, smtp_password, imap_password = self._split(request, partial=False)
        if not smtp_password:
            raise ValidationError({"smtp_password": ["A new mailbox needs its password."]})
        try:
            mailbox = mailbox_create(owner=request.user, values=values, smtp_password=smtp_password,
                                     imap_password=imap_password)
        except MailboxError as exc:
            raise _mailbox_error(exc) from None
        return Response(MailboxSerializer(mailbox).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        mailbox = self.get_object()
        values, smtp_password, imap_password = self._split(request, partial=True)
        try:
            mailbox = mailbox_update(mailbox=mailbox, values=values, smtp_password=smtp_password,
                                     imap_password=imap_password)
        except MailboxError as exc:
            raise _mailbox_error(exc) from None
        return Response(MailboxSerializer(mailbox).data)

    @extend_schema(request=None, responses=ConnectionReportSerializer)
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str | None = None) -> Response:
        """Log in over SMTP and IMAP now; report each separately with the IMAP folder list."""
        report = mailbox_test_connection(self.get_object())
        return Response(ConnectionReportSerializer(report).data)

    @extend_schema(request=PauseSerializer, responses=MailboxSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str | None = None) -> Response:
        """Pause (``paused: true``) or resume (``false``) sending from this mailbox."""
        data = PauseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        mailbox = self.get_object()
        mailbox_set_paused(mailbox=mailbox, paused=data.validated_data["paused"], by=request.user)
        return Response(MailboxSerializer(self.get_queryset().get(pk=mailbox.pk)).data)


def register(router: SimpleRouter) -> None:
    router.register("outreach/mailboxes", MailboxViewSet, basename="outreach-mailbox")
