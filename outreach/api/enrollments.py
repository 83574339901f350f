"""Enrollments over the API: list/read what the caller may see; ``enroll`` many at once; ``stop`` one.

Enrolling goes through ``enrollments_create`` (one refusal per prospect, with its reason),
exactly like the board's bulk enrollment page.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from linkcrm.choices import Role
from linkcrm.permissions import HasRole
from outreach.api.params import int_param
from outreach.models import Enrollment
from outreach.selectors import enrollments_for_user, mailboxes_sendable_by, sequences_active, visible_prospects
from outreach.services.enrollments import (
    EnrollmentError,
    Refusal,
    enrollment_stop_by_person,
    enrollments_create,
)
from prospects.models import Contact, TargetPage

MAX_PROSPECTS = 500


class EnrollmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Enrollment
        fields = ["id", "sequence", "prospect", "contact", "mailbox", "target_page", "domain", "status",
                  "stop_reason", "current_step", "next_step_at", "paused_until", "enrolled_at", "stopped_at",
                  "replied_at"]
        read_only_fields = fields


class EnrollRequestSerializer(serializers.Serializer):
    prospects = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=MAX_PROSPECTS)
    sequence = serializers.IntegerField()
    mailboxes = serializers.ListField(child=serializers.IntegerField(), min_length=1,
                                      help_text="Several take turns; a prospect stays on one mailbox.")
    contacts = serializers.ListField(child=serializers.IntegerField(), required=False, default=list,
                                     help_text="Contacts to write to (default: each prospect's primary).")
    target_page = serializers.IntegerField(required=False, allow_null=True, default=None)


class RefusalSerializer(serializers.Serializer):
    prospect_id = serializers.IntegerField()
    domain = serializers.CharField()
    reason = serializers.CharField()


class EnrollResultSerializer(serializers.Serializer):
    enrolled = serializers.ListField(child=serializers.IntegerField())
    refused = RefusalSerializer(many=True)


class EnrollmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Enrollments of prospects in the caller's projects (managers: all). ``?prospect=`` filters."""

    serializer_class = EnrollmentSerializer
    queryset = Enrollment.objects.none()  # for the schema; rows come from get_queryset
    permission_classes = [HasRole]
    required_role = Role.OUTREACH

    def get_queryset(self):
        rows = enrollments_for_user(self.request.user).order_by("-enrolled_at", "-id")
        prospect = int_param(self.request, "prospect")
        if prospect is not None:
            rows = rows.filter(prospect_id=prospect)
        return rows

    @extend_schema(request=EnrollRequestSerializer, responses=EnrollResultSerializer)
    @action(detail=False, methods=["post"])
    def enroll(self, request: Request) -> Response:
        """Enroll prospects in a sequence; every prospect refused comes back with its reason."""
        data = EnrollRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        user = request.user
        sequence = sequences_active().filter(pk=fields["sequence"]).first()
        if sequence is None:
            raise ValidationError({"sequence": ["no such sequence"]})
        mailboxes = list(mailboxes_sendable_by(user).filter(pk__in=fields["mailboxes"]))
        if len(mailboxes) != len(set(fields["mailboxes"])):
            raise ValidationError({"mailboxes": ["a mailbox is not active or not yours to send from"]})
        prospects = visible_prospects(user).filter(pk__in=fields["prospects"])
        visible = set(prospects.values_list("pk", flat=True))
        contacts = Contact.objects.filter(pk__in=fields["contacts"], prospect_id__in=visible)
        page = None
        if fields["target_page"] is not None:
            page = TargetPage.objects.filter(pk=fields["target_page"], project__prospects__in=visible).first()
            if page is None:
                raise ValidationError({"target_page": ["no such target page in these prospects' projects"]})
        try:
            result = enrollments_create(
                prospect_ids=[pk for pk in fields["prospects"] if pk in visible], sequence=sequence,
                mailboxes=mailboxes, enrolled_by=user, contact_ids=list(contacts.values_list("pk", flat=True)) or None,
                target_page=page,
            )
        except EnrollmentError as exc:
            raise ValidationError({"non_field_errors": [str(exc)]}) from None
        result.refused.extend(_not_visible(fields["prospects"], visible))
        return Response(EnrollResultSerializer(result).data)

    @extend_schema(request=None, responses=EnrollmentSerializer)
    @action(detail=True, methods=["post"])
    def stop(self, request: Request, pk: str | None = None) -> Response:
        """Stop this enrollment; its queued messages are withdrawn."""
        enrollment = self.get_object()
        enrollment_stop_by_person(enrollment_id=enrollment.pk, by=request.user)
        return Response(EnrollmentSerializer(self.get_queryset().get(pk=enrollment.pk)).data)


def _not_visible(asked: list[int], visible: set[int]) -> list[Refusal]:
    return [Refusal(pk, "", "prospect not found") for pk in dict.fromkeys(asked) if pk not in visible]


def register(router: SimpleRouter) -> None:
    router.register("outreach/enrollments", EnrollmentViewSet, basename="outreach-enrollment")
