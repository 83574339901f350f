"""Serializers of the pipeline API: shapes only; every write goes through prospects.services."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from prospects.choices import RejectReason, Stage
from prospects.models import Note, Prospect, Reminder, StageChange

User = get_user_model()
MAX_DOMAINS = 50_000
MAX_IDS = 5_000


def _stage_schema(enum_id: str, values: list[str]) -> dict[str, Any]:
    # The Stage choices appear under several field names (stage, to_stage, from_stage,
    # expected_from). drf-spectacular warns when one choice set gets several enum names, and
    # the deploy check fails on warnings; an own x-spec-enum-id per field name keeps each
    # name's enum separate (the id is removed from the published schema).
    return {"type": "string", "enum": values, "x-spec-enum-id": f"prospects.{enum_id}"}


@extend_schema_field(_stage_schema("to_stage", Stage.values))
class ToStageField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=Stage.choices, **kwargs)


@extend_schema_field(_stage_schema("expected_from", Stage.values))
class ExpectedStageField(ToStageField):
    pass


@extend_schema_field(_stage_schema("from_stage", ["", *Stage.values]))
class FromStageField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=[("", "created"), *Stage.choices], **kwargs)


class ProspectSerializer(serializers.ModelSerializer):
    assignee = serializers.SlugRelatedField(read_only=True, slug_field="username")
    created_by = serializers.SlugRelatedField(read_only=True, slug_field="username")
    stage_label = serializers.CharField(source="get_stage_display", read_only=True)

    class Meta:
        model = Prospect
        fields = [
            "id", "project", "domain", "pipeline", "stage", "stage_label", "reject_reason",
            "stage_changed_at", "person_moved_at", "assignee", "source", "score", "score_breakdown",
            "authority", "competitors_linked", "tags", "flagged", "flag_reason", "linking_page_url",
            "created_by", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class CardSerializer(serializers.ModelSerializer):
    """A board card: the few fields the board shows."""

    assignee = serializers.SlugRelatedField(read_only=True, slug_field="username")

    class Meta:
        model = Prospect
        fields = ["id", "domain", "stage", "score", "authority", "competitors_linked", "tags", "assignee",
                  "stage_changed_at", "reject_reason"]  # fmt: skip
        read_only_fields = fields


class BoardColumnSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Stage.choices)
    label = serializers.CharField()
    count = serializers.IntegerField()
    offset = serializers.IntegerField()
    next_offset = serializers.IntegerField(allow_null=True)
    cards = CardSerializer(many=True)


class ProspectCreateSerializer(serializers.Serializer):
    project = serializers.IntegerField()
    domains = serializers.ListField(
        child=serializers.CharField(max_length=2048, allow_blank=True, trim_whitespace=False),
        min_length=1,
        max_length=MAX_DOMAINS,
        help_text="Registrable domains, hosts or URLs.",
    )
    tags = serializers.ListField(child=serializers.CharField(max_length=100), required=False, default=list)
    assignee = serializers.CharField(required=False, allow_null=True, default=None, help_text="Username.")


class CreationResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    created_ids = serializers.ListField(child=serializers.IntegerField())
    duplicates = serializers.ListField(child=serializers.CharField())
    suppressed = serializers.ListField(child=serializers.CharField())
    invalid = serializers.SerializerMethodField()

    def get_invalid(self, result: Any) -> list[dict[str, str]]:
        return [{"value": value, "error": why} for value, why in result.invalid]


class MoveSerializer(serializers.Serializer):
    to_stage = ToStageField()
    expected_from = ExpectedStageField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The stage you saw; 409 when the prospect is elsewhere now.",
    )
    reject_reason = serializers.ChoiceField(
        choices=RejectReason.choices, required=False, default="", allow_blank=True
    )
    reason = serializers.CharField(required=False, default="", allow_blank=True, max_length=500)
    linking_page_url = serializers.URLField(
        required=False, default="", allow_blank=True, max_length=2048,
        help_text="Required to move to link_acquired (unless the prospect already has one): the page on "
                  "the prospect's domain that links to you. Refused with any other stage.",
    )


class AssignSerializer(serializers.Serializer):
    assignee = serializers.CharField(allow_null=True, help_text="Username, or null to unassign.")


class TagsSerializer(serializers.Serializer):
    tags = serializers.ListField(child=serializers.CharField(max_length=100), max_length=20)


class BulkSerializer(serializers.Serializer):
    project = serializers.IntegerField()
    ids = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=MAX_IDS)


class BulkMoveSerializer(BulkSerializer):
    to_stage = ToStageField()
    reject_reason = serializers.ChoiceField(
        choices=RejectReason.choices, required=False, default="", allow_blank=True
    )
    reason = serializers.CharField(required=False, default="", allow_blank=True, max_length=500)


class BulkAssignSerializer(BulkSerializer):
    assignee = serializers.CharField(allow_null=True, help_text="Username, or null to unassign.")


class BulkResultSerializer(serializers.Serializer):
    done = serializers.ListField(child=serializers.IntegerField())
    skipped = serializers.SerializerMethodField()

    def get_skipped(self, result: Any) -> list[dict[str, Any]]:
        return [{"id": pk, "reason": why} for pk, why in result.skipped]


class StageChangeSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(read_only=True, slug_field="username")
    from_stage = FromStageField(read_only=True)
    to_stage = ToStageField(read_only=True)

    class Meta:
        model = StageChange
        fields = ["id", "prospect", "from_stage", "to_stage", "actor_kind", "actor", "automation", "reason",
                  "reject_reason", "created_at"]  # fmt: skip
        read_only_fields = fields


class NoteSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(read_only=True, slug_field="username")

    class Meta:
        model = Note
        fields = ["id", "prospect", "author", "body", "created_at"]
        read_only_fields = ["id", "prospect", "author", "created_at"]


class ReminderSerializer(serializers.ModelSerializer):
    assignee = serializers.CharField(
        source="assignee.username",
        required=False,
        allow_null=True,
        default=None,
        help_text="Username; default: the prospect's assignee, else you.",
    )
    created_by = serializers.SlugRelatedField(read_only=True, slug_field="username")
    domain = serializers.CharField(source="prospect.domain", read_only=True)
    project = serializers.IntegerField(source="prospect.project_id", read_only=True)

    class Meta:
        model = Reminder
        fields = ["id", "prospect", "project", "domain", "assignee", "due_at", "text", "done_at",
                  "created_by", "created_at"]  # fmt: skip
        read_only_fields = ["id", "prospect", "project", "domain", "done_at", "created_by", "created_at"]


class CsvImportSerializer(serializers.Serializer):
    project = serializers.IntegerField()
    file = serializers.FileField()
