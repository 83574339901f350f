"""Serializers of the gap API: rows, pages, creation reports, competitors, target pages, settings."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from prospects.models import TargetPage
from prospects.selectors.gap import GapRow, GapSites
from prospects.services.projects import SCORE_PARTS


class GapSiteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    domain = serializers.CharField()
    role = serializers.ChoiceField(choices=["you", "competitor"])


def sites_data(sites: GapSites) -> list[dict[str, Any]]:
    you = [{"id": sites.you.id, "domain": sites.you.domain, "role": "you"}] if sites.you else []
    return you + [{"id": site.id, "domain": site.domain, "role": "competitor"} for site in sites.competitors]


class GapRowSerializer(serializers.Serializer):
    domain = serializers.CharField()
    authority = serializers.IntegerField(allow_null=True)
    competitors_linked = serializers.IntegerField()
    links_to_you = serializers.IntegerField(allow_null=True)
    links = serializers.IntegerField()
    follow = serializers.IntegerField()
    first_seen = serializers.DateField(allow_null=True)
    tld = serializers.CharField()
    country = serializers.CharField()
    is_prospect = serializers.BooleanField()
    sites = serializers.DictField(
        child=serializers.IntegerField(), help_text="Site domain → links from this domain."
    )


def row_data(row: GapRow, sites: GapSites) -> dict[str, Any]:
    names = {site.id: site.domain for site in sites.all}
    return {
        "domain": row.domain, "authority": row.authority, "competitors_linked": row.competitors_linked,
        "links_to_you": row.links_to_you, "links": row.links, "follow": row.follow,
        "first_seen": row.first_seen, "tld": row.tld, "country": row.country, "is_prospect": row.is_prospect,
        "sites": {names[site_id]: count for site_id, count in row.site_links.items() if site_id in names},
    }  # fmt: skip


class GapPageSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Rows of the current tab matching the filters.")
    page = serializers.IntegerField()
    per_page = serializers.IntegerField()
    num_pages = serializers.IntegerField()
    tab = serializers.CharField()
    counts = serializers.DictField(
        child=serializers.IntegerField(), help_text="Every tab's count, same filters."
    )
    sites = GapSiteSerializer(many=True)
    results = GapRowSerializer(many=True)


class CreateFromRowsSerializer(serializers.Serializer):
    domains = serializers.ListField(
        child=serializers.CharField(max_length=2048), allow_empty=False, max_length=50_000
    )


class CreateFromFilterSerializer(serializers.Serializer):
    filters = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False, default=dict,
        help_text="The gap's query parameters (tab, q, tld, country, authority_min, …), as for the list.",
    )  # fmt: skip


class CreationReportSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    created_ids = serializers.ListField(child=serializers.IntegerField())
    duplicates = serializers.ListField(child=serializers.CharField())
    suppressed = serializers.ListField(child=serializers.CharField())
    not_in_gap = serializers.ListField(child=serializers.CharField())
    invalid = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))
    left_out = serializers.IntegerField()


class GapImportSerializer(serializers.Serializer):
    file = serializers.FileField()
    domain_column = serializers.CharField(required=False, allow_blank=True, max_length=200)
    authority_column = serializers.CharField(required=False, allow_blank=True, max_length=200)
    authority_scale = serializers.ChoiceField(choices=["ahrefs", "semrush"], required=False, default="ahrefs")
    target_columns = serializers.DictField(
        child=serializers.CharField(), required=False, default=dict,
        help_text="Column header → site domain (the generic mapping).",
    )  # fmt: skip


class GapImportResultSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    skipped = serializers.IntegerField()
    row_errors = serializers.ListField(child=serializers.DictField())
    linking = serializers.DictField(child=serializers.IntegerField())
    competitors_added = serializers.ListField(child=serializers.CharField())
    import_ids = serializers.ListField(child=serializers.IntegerField())


class CompetitorsAddSerializer(serializers.Serializer):
    domains = serializers.ListField(child=serializers.CharField(max_length=2048), allow_empty=False)


class CompetitorsAddedSerializer(serializers.Serializer):
    added = serializers.ListField(child=serializers.CharField())
    already = serializers.ListField(child=serializers.CharField())
    refused = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))


class TargetPageSerializer(serializers.ModelSerializer):
    class Meta:
        model = TargetPage
        fields = ["id", "url", "label"]
        read_only_fields = ["id"]
        # The model's unique constraint is checked by the service, which says why in one message.
        validators: list[Any] = []


class ProjectSettingsSerializer(serializers.Serializer):
    site = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=2048,
                                 help_text="Domain or URL of your site; empty: none.")  # fmt: skip
    brand_terms = serializers.ListField(child=serializers.CharField(max_length=200), required=False)
    keywords = serializers.ListField(child=serializers.CharField(max_length=200), required=False)
    score_weights = serializers.DictField(
        child=serializers.IntegerField(min_value=0, max_value=100), required=False
    )

    def validate_score_weights(self, value: dict[str, int]) -> dict[str, int]:
        if set(value) != set(SCORE_PARTS):
            raise serializers.ValidationError(f"give every part: {', '.join(SCORE_PARTS)}")
        return value
