"""Forms of the audit pages: sites, uploads, column mapping and the referring-domains filters."""

from __future__ import annotations

import re
from collections.abc import Sequence

from django import forms
from django.http import QueryDict

from audit.choices import ImportKind
from audit.selectors import AUTHORITY_PROVIDERS, REFDOMAIN_SORTS, RefDomainQuery
from linkcrm.lib.domains import DomainError, domain_of_url, is_public_suffix

MAX_TERMS = 200
_TERM_SPLIT = re.compile(r"[,\n;]+")


def parse_terms(text: str) -> list[str]:
    """Comma-, semicolon- or line-separated terms: trimmed, de-duplicated (case-insensitively), in order."""
    seen: set[str] = set()
    terms: list[str] = []
    for raw in _TERM_SPLIT.split(text or ""):
        term = " ".join(raw.split())
        if term and term.casefold() not in seen:
            seen.add(term.casefold())
            terms.append(term)
    return terms


class TermsField(forms.CharField):
    """A textarea of terms that cleans to a list of strings (each at most 100 characters)."""

    widget = forms.Textarea(attrs={"rows": 2})

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def prepare_value(self, value: object) -> object:
        return ", ".join(value) if isinstance(value, list | tuple) else value

    def clean(self, value: str) -> list[str]:  # type: ignore[override]
        terms = parse_terms(super().clean(value))
        if len(terms) > MAX_TERMS:
            raise forms.ValidationError(f"At most {MAX_TERMS} terms.")
        too_long = [term for term in terms if len(term) > 100]
        if too_long:
            raise forms.ValidationError(f"Terms are at most 100 characters: {too_long[0][:40]}…")
        return terms


BRAND_HELP = "Names of the brand, separated by commas (e.g. Acme, Acme Tools). Empty: the domain's name."
MONEY_HELP = "Commercial keywords, separated by commas (e.g. blue widgets, buy widgets)."


class SiteTermsForm(forms.Form):
    brand_terms = TermsField(help_text=BRAND_HELP)
    money_terms = TermsField(help_text=MONEY_HELP)


class SiteForm(SiteTermsForm):
    """Add a site: any URL or host is folded to its registrable domain."""

    domain_or_url = forms.CharField(
        label="Domain or URL", max_length=2048, widget=forms.TextInput(attrs={"placeholder": "example.com"})
    )
    field_order = ["domain_or_url", "brand_terms", "money_terms"]

    def clean_domain_or_url(self) -> str:
        text = self.cleaned_data["domain_or_url"].strip()
        try:
            domain = domain_of_url(text)
        except DomainError as exc:
            raise forms.ValidationError(str(exc)) from None
        if "." not in domain or is_public_suffix(domain):
            raise forms.ValidationError(f"{domain} is not a registrable domain.")
        return text


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Export file",
        help_text="A backlink or referring-domain export (Semrush, Ahrefs, Search Console, Majestic) "
        "or any CSV whose columns you map in the next step. .csv, .tsv, .txt, .gz or .zip.",
    )
    full_snapshot = forms.TypedChoiceField(
        label="This export is complete (links missing from it are lost)",
        choices=[
            ("", "As its format says"),
            ("yes", "Yes: mark links missing from it as lost"),
            ("no", "No: partial, mark nothing lost"),
        ],
        help_text="By format: full exports (Semrush, Ahrefs, Majestic) are complete; Search Console samples, "
        "API pulls and mapped CSVs are not.",
        coerce=lambda value: {"yes": True, "no": False}.get(value), empty_value=None, required=False,
    )


class SemrushPullForm(forms.Form):
    limit = forms.IntegerField(
        min_value=1, max_value=1_000_000, initial=10_000, label="Backlinks to fetch",
        help_text="Each backlink costs API units from your Semrush plan.",
    )


NOT_MAPPED = ""
KIND_CHOICES = [(ImportKind.BACKLINKS, "A list of links (one row per linking page)"),
                (ImportKind.REFDOMAINS, "A list of referring domains (one row per domain)")]


def mapping_groups() -> dict[str, dict[str, str]]:
    """Per import kind, the generic CSV's mappable fields and their labels (from the importer)."""
    from audit.importers import generic

    return {ImportKind.BACKLINKS: generic.BACKLINK_FIELDS, ImportKind.REFDOMAINS: generic.REFDOMAIN_FIELDS}


class ColumnMappingForm(forms.Form):
    """Which header cell holds each field, for one of the two kinds of generic CSV.

    Fields are named ``<kind>-<field>`` so both groups can sit on one page; ``mapping``
    (after is_valid) holds only the chosen kind's mapped fields, ``{field: header cell}``,
    the shape ``link_import_create(column_mapping=...)`` expects.
    """

    kind = forms.ChoiceField(choices=KIND_CHOICES, widget=forms.RadioSelect, label="This file is")

    def __init__(self, *args: object, header: Sequence[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        choices = [(NOT_MAPPED, "— not in this file —")] + [(cell, cell) for cell in header if cell.strip()]
        groups = mapping_groups()
        guesses = {kind: guess_mapping(header, list(fields)) for kind, fields in groups.items()}
        self.groups: dict[str, list[str]] = {}
        for kind, fields in groups.items():
            self.groups[kind] = []
            for name, label in fields.items():
                key = f"{kind}-{name}"
                self.fields[key] = forms.ChoiceField(
                    label=label, choices=choices, required=False, initial=guesses[kind].get(name, NOT_MAPPED)
                )
                self.groups[kind].append(key)
        looks_like_domains = "domain" in guesses[ImportKind.REFDOMAINS] and (
            "source_url" not in guesses[ImportKind.BACKLINKS])
        self.fields["kind"].initial = ImportKind.REFDOMAINS if looks_like_domains else ImportKind.BACKLINKS

    def group(self, kind: str) -> list[forms.BoundField]:
        return [self[key] for key in self.groups.get(kind, [])]

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        kind = cleaned.get("kind")
        if not kind:
            return cleaned
        prefix = f"{kind}-"
        mapping = {key.removeprefix(prefix): cell for key, cell in cleaned.items()
                   if key.startswith(prefix) and cell}
        required = "source_url" if kind == ImportKind.BACKLINKS else "domain"
        if required not in mapping:
            raise forms.ValidationError(f"Map the column holding the {mapping_groups()[kind][required]}.")
        used = list(mapping.values())
        duplicates = sorted({cell for cell in used if used.count(cell) > 1})
        if duplicates:
            raise forms.ValidationError(f"A column can feed one field only: {', '.join(duplicates)}.")
        self.mapping = mapping
        return cleaned


def guess_mapping(header: Sequence[str], fields: Sequence[str]) -> dict[str, str]:
    """Pre-select header cells whose name looks like a field (``Source URL`` → source_url)."""
    simple = {re.sub(r"[^a-z0-9]", "", cell.casefold()): cell for cell in header}
    return {name: simple[key] for name in fields if (key := name.replace("_", "")) in simple}


_PROVIDER_CHOICES = [(key, label) for key, (_column, label) in AUTHORITY_PROVIDERS.items()]
_STATUS_CHOICES = [("live", "Live"), ("lost", "Lost"), ("all", "All")]
_PER_PAGE_CHOICES = [(n, str(n)) for n in (25, 50, 100, 200)]


class RefDomainFilterForm(forms.Form):
    """The referring-domains table's query string; invalid values fall back to defaults.

    Always bind it through ``from_query`` so the selects show the defaults actually applied.
    """

    DEFAULTS = {"authority": "semrush", "status": "live", "per_page": "50", "sort": "-backlinks"}

    @classmethod
    def from_query(cls, params: QueryDict) -> RefDomainFilterForm:
        data = params.copy()
        for name, value in cls.DEFAULTS.items():
            if not data.get(name):
                data[name] = value
        return cls(data)

    q = forms.CharField(required=False, max_length=253, label="Domain contains")
    tld = forms.CharField(required=False, max_length=63, label="TLD")
    country = forms.CharField(required=False, max_length=2, label="Country")
    authority = forms.ChoiceField(required=False, choices=_PROVIDER_CHOICES, label="Authority")
    authority_min = forms.IntegerField(required=False, min_value=0, max_value=100, label="from")
    authority_max = forms.IntegerField(required=False, min_value=0, max_value=100, label="to")
    follow_only = forms.BooleanField(required=False, label="Follow links only")
    status = forms.ChoiceField(required=False, choices=_STATUS_CHOICES, label="Status")
    sort = forms.CharField(required=False)
    page = forms.IntegerField(required=False, min_value=1)
    per_page = forms.TypedChoiceField(required=False, choices=_PER_PAGE_CHOICES, coerce=int, label="Rows")

    def to_query(self) -> RefDomainQuery:
        """The selector query for the valid fields (call after is_valid(); bad fields are ignored)."""
        data = {name: value for name, value in getattr(self, "cleaned_data", {}).items()
                if value not in (None, "") and name not in self.errors}
        sort = data.get("sort", "")
        if sort.lstrip("-") not in REFDOMAIN_SORTS:
            data.pop("sort", None)
        data["follow_only"] = bool(data.get("follow_only"))
        return RefDomainQuery(**data)
