"""The reports filter: a period of whole days and one project (or all the user may see)."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.contrib.auth.models import AbstractBaseUser

from prospects.selectors.projects import project_list_for_user

DEFAULT_DAYS = 90
MAX_DAYS = 3 * 366


class ReportFilterForm(forms.Form):
    """``start``/``end`` default to the last 90 days up to today; ``project`` empty means all projects."""

    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From")
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="To")
    project = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Project")

    def __init__(self, *args: object, user: AbstractBaseUser, today: date, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        projects = project_list_for_user(user).order_by("name").values_list("pk", "name")
        self.fields["project"].choices = [("", "All projects"), *projects]

    def clean(self) -> dict[str, object]:
        data = super().clean()
        end = data.get("end") or self.today
        start = data.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise forms.ValidationError("The period must start on or before its last day.")
        if (end - start).days >= MAX_DAYS:
            raise forms.ValidationError("A period may span at most three years.")
        data["start"], data["end"] = start, end
        return data
