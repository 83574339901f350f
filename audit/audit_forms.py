"""Forms of the toxicity audit, the review and the disavow pages."""

from __future__ import annotations

from django import forms

from audit import toxicity
from audit.audit_selectors import FindingsQuery
from audit.choices import ReviewStatus, ToxicityBand

MAX_DISAVOW_UPLOAD = 4 * 1024 * 1024  # twice Google's limit: a bigger file is refused unread


class FindingsFilterForm(forms.Form):
    """Filters of the findings table; anything not understood is ignored."""

    by = forms.ChoiceField(choices=[("domains", "Referring domains"), ("links", "Links")], required=False,
                           label="Show")  # fmt: skip
    band = forms.ChoiceField(choices=[("", "Any band"), *ToxicityBand.choices], required=False)
    status = forms.ChoiceField(choices=[("", "Any status"), *ReviewStatus.choices], required=False)
    marker = forms.ChoiceField(choices=[("", "Any marker")] + [(m.code, m.name) for m in toxicity.MARKERS],
                               required=False)  # fmt: skip
    q = forms.CharField(required=False, max_length=253, label="Domain contains")
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def to_query(self) -> FindingsQuery:
        data = self.cleaned_data if self.is_valid() else {}
        return FindingsQuery(
            by=data.get("by") or "domains", band=data.get("band") or "", status=data.get("status") or "",
            marker=data.get("marker") or "", q=data.get("q") or "", page=data.get("page") or 1,
        )  # fmt: skip


class DecisionForm(forms.Form):
    """A review decision on the ticked referring domains and/or links."""

    status = forms.ChoiceField(choices=ReviewStatus.choices, label="Decision")
    reason = forms.CharField(required=False, max_length=2000, label="Why")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        data = self.data
        self.domains = data.getlist("domain") if hasattr(data, "getlist") else []
        self.links = [int(v) for v in (data.getlist("link") if hasattr(data, "getlist") else []) if v.isdigit()]

    def clean(self) -> dict:
        cleaned = super().clean()
        if not self.domains and not self.links:
            raise forms.ValidationError("Tick at least one referring domain or link.")
        return cleaned


class DisavowUploadForm(forms.Form):
    file = forms.FileField(label="Disavow file (.txt)")
    accept_warnings = forms.BooleanField(required=False, label="Import risky lines too (I have read the warnings)")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_DISAVOW_UPLOAD:
            raise forms.ValidationError(f"The file is {upload.size:,} bytes; Google accepts at most 2 MB.")
        return upload
