"""Forms for projects, their settings, and the gap (filters, import)."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from prospects.gap_import import GapMapping
from prospects.models import Project
from prospects.selectors.gap import DEFAULT_SORT, MAX_PER_PAGE, GapQuery, GapTab
from prospects.services.projects import SCORE_PARTS

User = get_user_model()


class ProjectForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class MembersForm(forms.Form):
    members = forms.ModelMultipleChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("username"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


# --- the gap -----------------------------------------------------------------------------------

_PER_PAGE_CHOICES = [(n, str(n)) for n in (25, 50, 100, 200)]


class GapFilterForm(forms.Form):
    """The gap's query string (page and API alike); invalid values are reported and ignored.

    The "hide" filters are on unless the query says ``show_…=on``, so a plain link to the gap
    hides existing prospects, toxic and do-not-contact domains.
    """

    tab = forms.ChoiceField(required=False, choices=GapTab.choices)
    q = forms.CharField(required=False, max_length=253, label="Domain contains")
    tld = forms.CharField(required=False, max_length=63, label="TLD")
    country = forms.CharField(required=False, max_length=2, label="Country")
    authority_min = forms.IntegerField(required=False, min_value=0, max_value=100, label="Authority from")
    authority_max = forms.IntegerField(required=False, min_value=0, max_value=100, label="to")
    min_competitors = forms.IntegerField(
        required=False, min_value=1, max_value=10_000, label="Min. competitors"
    )
    follow_only = forms.BooleanField(required=False, label="Follow links only")
    show_prospects = forms.BooleanField(required=False, label="Show existing prospects")
    show_toxic = forms.BooleanField(required=False, label="Show toxic / disavowed")
    show_suppressed = forms.BooleanField(required=False, label="Show do-not-contact")
    sort = forms.CharField(required=False, max_length=40)
    page = forms.IntegerField(required=False, min_value=1)
    per_page = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_PER_PAGE, label="Rows",
        widget=forms.Select(choices=_PER_PAGE_CHOICES),
    )  # fmt: skip

    def to_query(self) -> GapQuery:
        """The selector query from the valid fields (call after is_valid())."""
        data = {name: value for name, value in getattr(self, "cleaned_data", {}).items()
                if value not in (None, "") and name not in self.errors}  # fmt: skip
        return GapQuery(
            tab=data.get("tab") or GapTab.BEST, q=data.get("q", ""), tld=data.get("tld", ""),
            country=data.get("country", ""), authority_min=data.get("authority_min"),
            authority_max=data.get("authority_max"), min_competitors=data.get("min_competitors"),
            follow_only=bool(data.get("follow_only")), hide_prospects=not data.get("show_prospects"),
            hide_toxic=not data.get("show_toxic"), hide_suppressed=not data.get("show_suppressed"),
            sort=data.get("sort") or DEFAULT_SORT, page=data.get("page") or 1,
            per_page=data.get("per_page") or 50,
        )  # fmt: skip


class GapImportForm(forms.Form):
    """A gap export: Ahrefs Link Intersect as it is, or any CSV with its columns named here."""

    file = forms.FileField(label="Gap export (CSV, TSV; UTF-8 or UTF-16; may be zipped or gzipped)")
    domain_column = forms.CharField(required=False, max_length=200, label="Referring domain column")
    authority_column = forms.CharField(required=False, max_length=200, label="Authority column")
    authority_scale = forms.ChoiceField(
        required=False, label="Authority is", choices=[("ahrefs", "Ahrefs DR"), ("semrush", "Semrush AS")]
    )
    target_columns = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4}), label="Compared-site columns",
        help_text="One per line: column header = site domain (e.g. 'Example backlinks = example.com').",
    )  # fmt: skip

    def clean_target_columns(self) -> dict[str, str]:
        mapping: dict[str, str] = {}
        for number, line in enumerate(self.cleaned_data["target_columns"].splitlines(), start=1):
            if not line.strip():
                continue
            header, sep, domain = line.rpartition("=")
            if not sep or not header.strip() or not domain.strip():
                raise forms.ValidationError(f"line {number}: write 'column header = domain'")
            mapping[header.strip()] = domain.strip()
        return mapping

    def mapping(self) -> GapMapping | None:
        """The generic mapping when the user named the columns, else None (auto-detect)."""
        data = self.cleaned_data
        if not data.get("domain_column") and not data.get("target_columns"):
            return None
        return GapMapping(
            domain=data.get("domain_column") or "", authority=data.get("authority_column") or "",
            authority_scale=data.get("authority_scale") or "ahrefs", targets=data.get("target_columns") or {},
        )  # fmt: skip


# --- project settings --------------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    """Values one per line (commas also separate), blank ones dropped."""
    return [part.strip() for line in text.splitlines() for part in line.split(",") if part.strip()]


class ProjectSiteForm(forms.Form):
    site = forms.CharField(
        required=False, max_length=2048, label="Your site",
        help_text="A domain or URL; subdomains and www. are folded into the registrable domain. Empty: none.",
    )  # fmt: skip


class CompetitorsForm(forms.Form):
    competitors = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), label="Add competitors",
        help_text="Domains or URLs, one per line (or comma-separated). Any number.",
    )  # fmt: skip

    def values(self) -> list[str]:
        return _lines(self.cleaned_data["competitors"])


class TermsForm(forms.Form):
    brand_terms = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Brand terms",
        help_text="Your brand's names, one per line.",
    )  # fmt: skip
    keywords = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Topic keywords",
        help_text="Words of your topic, one per line: titles and anchors that use them raise the score.",
    )  # fmt: skip

    def brand_list(self) -> list[str]:
        return _lines(self.cleaned_data["brand_terms"])

    def keyword_list(self) -> list[str]:
        return _lines(self.cleaned_data["keywords"])


class TargetPageForm(forms.Form):
    url = forms.URLField(max_length=2048, label="Page URL", assume_scheme="https")
    label = forms.CharField(required=False, max_length=200, label="Label")


class ScoreWeightsForm(forms.Form):
    """One whole number 0-100 per score part; they need not sum to 100 (the score is a weighted mean)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for part in SCORE_PARTS:
            self.fields[part] = forms.IntegerField(min_value=0, max_value=100, label=SCORE_PART_LABELS[part])

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if not self.errors and not any(data.get(part) for part in SCORE_PARTS):
            raise forms.ValidationError("At least one weight must be above 0.")
        return data

    def weights(self) -> dict[str, int]:
        return {part: self.cleaned_data[part] for part in SCORE_PARTS}


SCORE_PART_LABELS = {
    "authority": "Authority", "competitors": "Competitors linked", "freshness": "Freshness",
    "follow": "Follow ratio", "relevance": "Relevance (keywords)", "spam": "Low spam risk",
}  # fmt: skip
