"""Sequences with their steps over the API: everyone reads; managers and admins write."""

from __future__ import annotations

from django.db import transaction
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from linkcrm.choices import Role
from linkcrm.permissions import HasRole
from outreach.models import Sequence, SequenceStep
from outreach.services.sequences import SequenceError, StepSpec, sequence_save, sequence_steps_save


class StepSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(required=False, allow_null=True, help_text="Keep this step (omit for a new one).")

    class Meta:
        model = SequenceStep
        fields = ["id", "position", "template", "delay_days", "business_days"]
        read_only_fields = ["position"]


class SequenceSerializer(serializers.ModelSerializer):
    steps = StepSerializer(many=True, help_text="Every step, in order; steps left out are removed.")

    class Meta:
        model = Sequence
        fields = ["id", "name", "description", "archived", "steps", "created_at"]
        read_only_fields = ["id", "archived", "created_at"]


def _specs(steps: list[dict]) -> list[StepSpec]:
    return [StepSpec(template_id=s["template"].pk, delay_days=s.get("delay_days", 0),
                     business_days=s.get("business_days", False), step_id=s.get("id")) for s in steps]


class SequenceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = SequenceSerializer
    permission_classes = [HasRole]
    required_role = Role.OUTREACH
    queryset = Sequence.objects.order_by("name").prefetch_related("steps")

    def get_permissions(self):
        self.required_role = Role.MANAGER if self.action in ("create", "partial_update", "update") else Role.OUTREACH
        return super().get_permissions()

    def _save(self, request: Request, sequence: Sequence | None, data: dict) -> Sequence:
        try:
            with transaction.atomic():
                saved = sequence_save(sequence=sequence, name=data.get("name", sequence.name if sequence else ""),
                                      description=data.get("description", sequence.description if sequence else ""),
                                      by=request.user)
                if "steps" in data:
                    sequence_steps_save(sequence=saved, steps=_specs(data["steps"]))
        except SequenceError as exc:
            raise ValidationError({exc.field: [str(exc)]}) from None
        return self.get_queryset().get(pk=saved.pk)

    def create(self, request: Request) -> Response:
        data = SequenceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sequence = self._save(request, None, data.validated_data)
        return Response(SequenceSerializer(sequence).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        data = SequenceSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        sequence = self._save(request, self.get_object(), data.validated_data)
        return Response(SequenceSerializer(sequence).data)


def register(router: SimpleRouter) -> None:
    router.register("outreach/sequences", SequenceViewSet, basename="outreach-sequence")
