"""Serializers of the audit API: sites, profile figures, query parameters and imports.

Input serializers only validate; writes happen in the views through services. Profile
figures come from audit.selectors dataclasses, so their serializers are plain Serializers.
"""

from __future__ import annotations

import json
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from audit.anchors import CATEGORY_LABELS
from audit.choices import ImportKind
from audit.forms import parse_terms
from audit.models import LinkImport, Site
from audit.selectors import (
    AUTHORITY_PROVIDERS,
    REFDOMAIN_SORTS,
    RefDomainQuery,
    import_progress,
    import_row_errors,
)
from linkcrm.lib.domains import DomainError, domain_of_url, is_public_suffix


class TermsField(serializers.ListField):
    """A list of terms (or one comma-separated string), cleaned like the pages do."""

    child = serializers.CharField(max_length=100, allow_blank=True)

    def to_internal_value(self, data: Any) -> list[str]:
        if isinstance(data, str):
            data = [data]
        values = super().to_internal_value(data)
        terms = parse_terms("\n".join(values))
        if len(terms) > 200:
            raise serializers.ValidationError("At most 200 terms.")
        return terms


class SiteSerializer(serializers.ModelSerializer):
    live_backlinks = serializers.IntegerField(read_only=True, default=0)
    live_refdomains = serializers.IntegerField(read_only=True, default=0)
    last_import_at = serializers.DateTimeField(read_only=True, allow_null=True, default=None)
    last_import_status = serializers.CharField(read_only=True, allow_null=True, default=None)

    class Meta:
        model = Site
        fields = ["id", "domain", "brand_terms", "money_terms", "created_at", "live_backlinks",
                  "live_refdomains", "last_import_at", "last_import_status"]
        read_only_fields = fields


class SiteCreateSerializer(serializers.Serializer):
    domain_or_url = serializers.CharField(max_length=2048)
    brand_terms = TermsField(required=False, default=list)
    money_terms = TermsField(required=False, default=list)

    def validate_domain_or_url(self, value: str) -> str:
        try:
            domain = domain_of_url(value)
        except DomainError as exc:
            raise serializers.ValidationError(str(exc)) from None
        if "." not in domain or is_public_suffix(domain):
            raise serializers.ValidationError(f"{domain} is not a registrable domain.")
        return value


class SiteTermsSerializer(serializers.Serializer):
    brand_terms = TermsField(required=False)
    money_terms = TermsField(required=False)


# --- profile figures ---------------------------------------------------------------------------


class OverviewSerializer(serializers.Serializer):
    backlinks = serializers.IntegerField()
    live_backlinks = serializers.IntegerField()
    lost_backlinks = serializers.IntegerField()
    refdomains = serializers.IntegerField()
    live_refdomains = serializers.IntegerField()
    lost_refdomains = serializers.IntegerField()
    follow = serializers.IntegerField()
    nofollow = serializers.IntegerField()
    ugc = serializers.IntegerField()
    sponsored = serializers.IntegerField()
    link_types = serializers.DictField(child=serializers.IntegerField())
    authority = serializers.DictField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text="Provider → ten counts of live referring domains: buckets 0–9, 10–19, … 90–100.",
    )


class RefDomainQuerySerializer(serializers.Serializer):
    """Query parameters of the referring-domains endpoint (same meaning as the page's filters)."""

    q = serializers.CharField(required=False, allow_blank=True, max_length=253)
    tld = serializers.CharField(required=False, allow_blank=True, max_length=63)
    country = serializers.CharField(required=False, allow_blank=True, max_length=2)
    authority = serializers.ChoiceField(choices=list(AUTHORITY_PROVIDERS), required=False)
    authority_min = serializers.IntegerField(required=False, min_value=0, max_value=100)
    authority_max = serializers.IntegerField(required=False, min_value=0, max_value=100)
    follow_only = serializers.BooleanField(required=False, default=False)
    status = serializers.ChoiceField(choices=["live", "lost", "all"], required=False)
    sort = serializers.ChoiceField(
        choices=[*REFDOMAIN_SORTS, *(f"-{key}" for key in REFDOMAIN_SORTS)], required=False
    )
    page = serializers.IntegerField(required=False, min_value=1)
    per_page = serializers.IntegerField(required=False, min_value=1, max_value=500)

    def to_query(self) -> RefDomainQuery:
        return RefDomainQuery(**{k: v for k, v in self.validated_data.items() if v not in (None, "")})


class RefDomainSerializer(serializers.Serializer):
    domain = serializers.CharField()
    tld = serializers.CharField()
    backlinks = serializers.IntegerField()
    follow_backlinks = serializers.IntegerField()
    reported_backlinks = serializers.IntegerField(allow_null=True)
    semrush_ascore = serializers.IntegerField(allow_null=True)
    ahrefs_dr = serializers.IntegerField(allow_null=True)
    majestic_tf = serializers.IntegerField(allow_null=True)
    ip = serializers.CharField(allow_null=True)
    country = serializers.CharField()
    first_seen = serializers.DateField(allow_null=True)
    last_seen = serializers.DateField(allow_null=True)
    lost_at = serializers.DateField(allow_null=True)


def page_serializer(name: str, row: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """A page of rows: the figures a pager needs, then ``results``."""
    fields = {
        "count": serializers.IntegerField(),
        "page": serializers.IntegerField(),
        "per_page": serializers.IntegerField(),
        "num_pages": serializers.IntegerField(),
        "results": row(many=True),
    }
    return type(name, (serializers.Serializer,), fields)


def page_data(page: Any, row: type[serializers.Serializer]) -> dict[str, Any]:
    return {"count": page.total, "page": page.page, "per_page": page.per_page, "num_pages": page.num_pages,
            "results": row(page.rows, many=True).data}


class AnchorQuerySerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=list(CATEGORY_LABELS), required=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=1000, default=100)


class CategoryShareSerializer(serializers.Serializer):
    category = serializers.CharField()
    label = serializers.CharField()
    backlinks = serializers.IntegerField()
    anchors = serializers.IntegerField()
    percent = serializers.FloatField()


class AnchorRowSerializer(serializers.Serializer):
    anchor = serializers.CharField()
    category = serializers.CharField()
    backlinks = serializers.IntegerField()
    refdomains = serializers.IntegerField()


class AnchorProfileSerializer(serializers.Serializer):
    total_backlinks = serializers.IntegerField()
    distinct_anchors = serializers.IntegerField()
    categories = CategoryShareSerializer(many=True)
    top = AnchorRowSerializer(many=True)


class NewLostQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=["week", "month"], required=False, default="week")
    of = serializers.ChoiceField(choices=["backlinks", "refdomains"], required=False, default="backlinks")


class NewLostPointSerializer(serializers.Serializer):
    start = serializers.DateField()
    new = serializers.IntegerField()
    lost = serializers.IntegerField()


class NewLostSerializer(serializers.Serializer):
    period = serializers.CharField()
    of = serializers.CharField()
    points = NewLostPointSerializer(many=True)


class ShareSerializer(serializers.Serializer):
    value = serializers.CharField()
    count = serializers.IntegerField()
    percent = serializers.FloatField()


class DistributionSerializer(serializers.Serializer):
    results = ShareSerializer(many=True)
    others = serializers.IntegerField(help_text="Live referring domains outside the listed values.")


class TopPagesQuerySerializer(serializers.Serializer):
    sort = serializers.ChoiceField(choices=["refdomains", "backlinks"], required=False, default="refdomains")
    page = serializers.IntegerField(required=False, min_value=1, default=1)
    per_page = serializers.IntegerField(required=False, min_value=1, max_value=500, default=50)


class TopPageSerializer(serializers.Serializer):
    target_url = serializers.CharField()
    backlinks = serializers.IntegerField()
    refdomains = serializers.IntegerField()


class SubnetSerializer(serializers.Serializer):
    subnet = serializers.CharField()
    domains = serializers.IntegerField()
    sample = serializers.ListField(child=serializers.CharField())


class IpDiversitySerializer(serializers.Serializer):
    domains_with_ip = serializers.IntegerField()
    distinct_ips = serializers.IntegerField()
    distinct_subnets = serializers.IntegerField()
    crowded = SubnetSerializer(many=True)


class IpQuerySerializer(serializers.Serializer):
    min_domains = serializers.IntegerField(required=False, min_value=2, default=2)


# --- imports ----------------------------------------------------------------------------------


class ProgressSerializer(serializers.Serializer):
    status = serializers.CharField()
    active = serializers.BooleanField()
    percent = serializers.FloatField(allow_null=True)
    rows_read = serializers.IntegerField()
    rows_per_second = serializers.FloatField(allow_null=True)
    eta_seconds = serializers.IntegerField(allow_null=True)
    elapsed_seconds = serializers.FloatField(allow_null=True)


class LinkImportSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(read_only=True, slug_field="username")
    progress = serializers.SerializerMethodField()

    class Meta:
        model = LinkImport
        fields = [
            "id", "site", "file_name", "file_size", "format", "kind", "full_snapshot", "column_mapping",
            "status", "cancel_requested", "created_by", "created_at", "started_at", "finished_at",
            "bytes_read", "rows_read", "rows_imported", "rows_skipped", "rows_new", "rows_lost", "error",
            "progress",
        ]
        read_only_fields = fields

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, link_import: LinkImport) -> dict[str, Any]:
        return ProgressSerializer(import_progress(link_import, now=timezone.now())).data


class RowErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(allow_null=True)
    field = serializers.CharField()
    message = serializers.CharField()


class LinkImportDetailSerializer(LinkImportSerializer):
    """An import with its row error report, sorted by line."""

    row_errors = serializers.SerializerMethodField()

    class Meta(LinkImportSerializer.Meta):
        fields = [*LinkImportSerializer.Meta.fields, "row_errors"]
        read_only_fields = fields

    @extend_schema_field(RowErrorSerializer(many=True))
    def get_row_errors(self, link_import: LinkImport) -> list[dict[str, Any]]:
        return import_row_errors(link_import)


class JSONMappingField(serializers.JSONField):
    """``{field: header cell}``; multipart forms send it as a JSON string."""

    def to_internal_value(self, data: Any) -> dict[str, str]:
        if isinstance(data, str):
            try:
                data = json.loads(data) if data.strip() else {}
            except ValueError:
                raise serializers.ValidationError("column_mapping must be a JSON object.") from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise serializers.ValidationError("column_mapping must map field names to header cells.")
        return data


class OptionalBooleanField(serializers.BooleanField):
    """True, false, or absent (None): unlike DRF's default, a multipart form leaving it out is not False."""

    default_empty_html = empty


class LinkImportCreateSerializer(serializers.Serializer):
    site = serializers.PrimaryKeyRelatedField(queryset=Site.objects.all())
    file = serializers.FileField()
    full_snapshot = OptionalBooleanField(
        required=False, allow_null=True, default=None,
        help_text="True: links missing from the export are marked lost. Omitted: the format's default.",
    )
    column_mapping = JSONMappingField(
        required=False, default=dict,
        help_text=f"Generic CSV only: {{field: header cell}}; mapping source_url makes it "
        f"{ImportKind.BACKLINKS.label}, domain {ImportKind.REFDOMAINS.label}.",
    )
