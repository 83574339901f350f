"""Forms of the board, the table and the prospect page: they parse; services decide."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.contrib.auth.models import AbstractBaseUser

from prospects.choices import RejectReason, Stage
from prospects.selectors.pipeline import TABLE_SORTS, BoardFilters

_NO_REASON = [("", "Reason…"), *RejectReason.choices]


def _member_choices(members: Sequence[AbstractBaseUser]) -> list[tuple[str, str]]:
    return [(str(user.pk), user.get_full_name() or user.get_username()) for user in members]


class BoardFilterForm(forms.Form):
    """The filter bar (GET). Invalid values are dropped, never fatal: a bad link still shows the board."""

    assignee = forms.ChoiceField(required=False, label="Assignee")
    score_min = forms.IntegerField(required=False, min_value=0, max_value=100, label="Min score")
    score_max = forms.IntegerField(required=False, min_value=0, max_value=100, label="Max score")
    tag = forms.CharField(required=False, max_length=50, label="Tag")
    q = forms.CharField(required=False, max_length=253, label="Domain contains")

    def __init__(self, *args: Any, members: Sequence[AbstractBaseUser] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [
            ("", "Anyone"),
            ("me", "Me"),
            ("none", "Unassigned"),
            *_member_choices(members),
        ]
        self.fields["tag"].widget.attrs["list"] = "project-tags"

    def filters(self) -> BoardFilters:
        self.is_valid()  # an invalid field is left out of cleaned_data: that filter is simply not applied
        data = getattr(self, "cleaned_data", {})
        return BoardFilters(
            assignee=data.get("assignee") or "",
            score_min=data.get("score_min"),
            score_max=data.get("score_max"),
            tag=(data.get("tag") or "").strip().lower(),
            q=(data.get("q") or "").strip(),
        )


class TableFilterForm(BoardFilterForm):
    stage = forms.ChoiceField(required=False, choices=[("", "Any stage"), *Stage.choices], label="Stage")
    sort = forms.ChoiceField(
        required=False,
        choices=[
            (f"{sign}{key}", f"{label} {'↓' if sign else '↑'}")
            for key, (label, _) in TABLE_SORTS.items()
            for sign in ("-", "")
        ],
        widget=forms.HiddenInput,
    )
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class MoveForm(forms.Form):
    """A move as a person makes it: to where, from where they saw it, and the why."""

    to_stage = forms.ChoiceField(choices=Stage.choices, label="Move to")
    expected_from = forms.ChoiceField(choices=[("", "—"), *Stage.choices], required=False)
    reject_reason = forms.ChoiceField(choices=_NO_REASON, required=False, label="Reject reason")
    linking_page_url = forms.URLField(
        required=False, max_length=2048, label="Linking page (evidence)", assume_scheme="https"
    )
    reason = forms.CharField(required=False, max_length=500, label="Why (optional)")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # One form holds every stage's button and the reason select: the reason only counts for Rejected.
        if data.get("to_stage") != Stage.REJECTED:
            data["reject_reason"] = ""
        elif not data.get("reject_reason"):
            self.add_error("reject_reason", "Say why it is rejected.")
        if data.get("to_stage") != Stage.LINK_ACQUIRED:
            data["linking_page_url"] = ""
        return data


class AssignForm(forms.Form):
    assignee = forms.ChoiceField(required=False, label="Assignee")

    def __init__(self, *args: Any, members: Sequence[AbstractBaseUser] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.members = {str(user.pk): user for user in members}
        self.fields["assignee"].choices = [("", "Nobody"), *_member_choices(members)]

    def assignee_user(self) -> AbstractBaseUser | None:
        return self.members.get(self.cleaned_data.get("assignee") or "")


class BulkForm(AssignForm):
    """The table's bulk bar: which rows, and one of move, assign, tag."""

    ACTIONS = ("move", "assign", "tag")

    ids = forms.TypedMultipleChoiceField(coerce=int, choices=(), label="Prospects")
    action = forms.ChoiceField(choices=[(a, a) for a in ACTIONS])
    to_stage = forms.ChoiceField(choices=[("", "Stage…"), *Stage.choices], required=False, label="Move to")
    reject_reason = forms.ChoiceField(choices=_NO_REASON, required=False, label="Reject reason")
    tags = forms.CharField(required=False, max_length=500, label="Add tags")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any id may be posted; the services only touch prospects of the project.
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        self.fields["ids"].choices = [(value, value) for value in raw if str(value).isdigit()]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("action") == "move" and not data.get("to_stage"):
            self.add_error("to_stage", "Choose the stage to move to.")
        if (
            data.get("action") == "move"
            and data.get("to_stage") == Stage.REJECTED
            and not data.get("reject_reason")
        ):
            self.add_error("reject_reason", "Say why they are rejected.")
        if data.get("action") == "tag" and not (data.get("tags") or "").strip():
            self.add_error("tags", "Type the tags to add.")
        return data


class TagsForm(forms.Form):
    tags = forms.CharField(required=False, max_length=1000, label="Tags", help_text="Separated by commas.")


class NoteForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000, label="Note")


class ReminderForm(AssignForm):
    due_at = forms.DateTimeField(
        label="Due",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )
    text = forms.CharField(max_length=300, label="What")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].label = "For"
        self.fields["assignee"].choices = [("", "The assignee (or me)"), *self.fields["assignee"].choices[1:]]


class AddProspectsForm(AssignForm):
    domains = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        max_length=2_000_000,
        label="Domains or URLs",
        help_text="One per line (commas and semicolons also separate them).",
    )
    tags = forms.CharField(required=False, max_length=500, label="Tags", help_text="Separated by commas.")


class ImportCsvForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="A column named domain or url (required); optional columns tags, assignee, notes.",
    )
