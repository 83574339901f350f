"""Audit's tables: sites, imports of backlink exports, backlinks and referring domains.

Uniqueness of a backlink: one row per (site, source page URL, target URL), whatever the
provider: Semrush and Ahrefs reporting the same link give one row whose ``providers`` bitmask
has both bits. The key is stored as ``url_key`` = md5(source_url || E'\\n' || target_url)
(a uuid), because real URLs can exceed what a btree index entry may hold. Several anchors
from one page to one target collapse into one row (the last export's anchor wins).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from audit.choices import (
    DisavowKind,
    DisavowOrigin,
    ImportFormat,
    ImportKind,
    ImportStatus,
    LinkType,
    ReviewStatus,
    ToxicityRunStatus,
)

# Semrush Backlink Audit's own "toxic" band starts at this Toxic Score. The gap's "hide toxic"
# filter, the provider_toxic marker and the partial index backlink_gap_toxic all use it.
SEMRUSH_TOXIC_MIN = 60


class Site(models.Model):
    """A registrable domain we hold links for: yours or a competitor's."""

    domain = models.CharField(max_length=253, unique=True, help_text="Registrable domain, punycode.")
    brand_terms = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    money_terms = ArrayField(
        models.CharField(max_length=100), default=list, blank=True,
        help_text="Commercial keywords: anchors equal to one are exact match, containing one partial.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain


class LinkImport(models.Model):
    """One upload (or API pull) of a backlink export for a site, with its outcome."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="imports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    file_name = models.CharField(max_length=255)
    file = models.FileField(upload_to="imports/%Y/%m/", blank=True)
    file_size = models.BigIntegerField(default=0)
    format = models.CharField(max_length=32, choices=ImportFormat.choices, blank=True)
    kind = models.CharField(max_length=16, choices=ImportKind.choices, blank=True)
    column_mapping = models.JSONField(default=dict, blank=True, help_text="Generic CSV: field -> header.")
    full_snapshot = models.BooleanField(
        default=True, help_text="The export lists every current link: links missing from it are lost."
    )
    api_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="API pulls: how many backlinks to fetch (files: empty)."
    )
    status = models.CharField(max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    cancel_requested = models.BooleanField(default=False)
    bytes_read = models.BigIntegerField(default=0)
    rows_read = models.BigIntegerField(default=0)
    rows_imported = models.BigIntegerField(default=0)
    rows_skipped = models.BigIntegerField(default=0)
    rows_new = models.BigIntegerField(default=0)
    rows_lost = models.BigIntegerField(default=0)
    error = models.TextField(blank=True, help_text="Why the whole import failed, if it did.")
    row_errors = models.JSONField(
        default=list, blank=True, help_text="[{line, field, message}], capped; rows skipped or refused."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["site", "-created_at"], name="linkimport_site_recent")]

    def __str__(self) -> str:
        return f"{self.file_name} → {self.site}"


class Backlink(models.Model):
    """A link from a source page to a page of ``site``, as reported by one or more providers."""

    # No index of its own: every index of the table starts with site_id (and a million-row
    # import pays for each index it maintains).
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="backlinks", db_index=False)
    url_key = models.UUIDField(help_text="md5(source_url || newline || target_url)")
    source_url = models.TextField()
    source_host = models.CharField(max_length=253)
    # Byte order ("C"): domains are ASCII (punycode), so the order is the same, and index
    # upkeep on a million-row import is several times cheaper than with a locale collation.
    source_domain = models.CharField(
        max_length=253, db_collation="C", help_text="Registrable domain of the source."
    )
    source_title = models.TextField(blank=True)
    target_url = models.TextField()
    anchor = models.TextField(blank=True)
    link_type = models.CharField(max_length=16, choices=LinkType.choices, default=LinkType.TEXT)
    nofollow = models.BooleanField(default=False)
    sponsored = models.BooleanField(default=False)
    ugc = models.BooleanField(default=False)
    sitewide = models.BooleanField(null=True)
    first_seen = models.DateField(null=True, blank=True)
    last_seen = models.DateField(null=True, blank=True)
    lost_at = models.DateField(null=True, blank=True)
    external_links = models.IntegerField(null=True, blank=True)
    internal_links = models.IntegerField(null=True, blank=True)
    http_status = models.SmallIntegerField(null=True, blank=True)
    # Authority by provider, each on the provider's own 0-100 scale.
    semrush_page_ascore = models.SmallIntegerField(null=True, blank=True)
    semrush_domain_ascore = models.SmallIntegerField(null=True, blank=True)
    ahrefs_ur = models.SmallIntegerField(null=True, blank=True)
    ahrefs_dr = models.SmallIntegerField(null=True, blank=True)
    majestic_tf = models.SmallIntegerField(null=True, blank=True)
    majestic_cf = models.SmallIntegerField(null=True, blank=True)
    # Provider flags kept as inputs for the toxicity audit.
    ahrefs_is_spam = models.BooleanField(null=True)
    semrush_toxic_score = models.SmallIntegerField(null=True, blank=True)
    providers = models.SmallIntegerField(default=0, help_text="Bitmask of audit.choices.PROVIDER_BIT.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["site_id", "source_domain", "id"]
        constraints = [models.UniqueConstraint(fields=["site", "url_key"], name="backlink_site_url_key_unique")]
        indexes = [
            models.Index(fields=["site", "source_domain"], name="backlink_site_domain"),
            models.Index(fields=["site", "first_seen"], name="backlink_site_first_seen"),
            models.Index(fields=["site", "lost_at"], name="backlink_site_lost_at"),
            # The gap's "hide toxic" filter: the few links a provider flags, found without a scan.
            # prospects.selectors.gap.toxic_filter_sql must state this predicate exactly.
            models.Index(
                fields=["site", "source_domain"], name="backlink_gap_toxic",
                condition=Q(ahrefs_is_spam=True) | Q(semrush_toxic_score__gte=SEMRUSH_TOXIC_MIN),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_url} → {self.target_url}"


class RefDomain(models.Model):
    """Facts about one referring domain of a site: counted from its backlinks and stated by providers."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="refdomains", db_index=False)
    domain = models.CharField(max_length=253, db_collation="C")  # ASCII: byte order, cheap to index
    tld = models.CharField(max_length=63, blank=True, help_text="Public suffix, e.g. co.uk.")
    backlinks = models.IntegerField(default=0, help_text="Live backlinks we hold from this domain.")
    follow_backlinks = models.IntegerField(default=0)
    reported_backlinks = models.IntegerField(null=True, blank=True, help_text="Provider's own count.")
    semrush_ascore = models.SmallIntegerField(null=True, blank=True)
    ahrefs_dr = models.SmallIntegerField(null=True, blank=True)
    majestic_tf = models.SmallIntegerField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2, lower case.")
    first_seen = models.DateField(null=True, blank=True)
    last_seen = models.DateField(null=True, blank=True)
    lost_at = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["site_id", "domain"]
        constraints = [models.UniqueConstraint(fields=["site", "domain"], name="refdomain_site_domain_unique")]
        indexes = [
            models.Index(fields=["site", "-backlinks"], name="refdomain_site_backlinks"),
            # The backlink gap (prospects.selectors.gap): live rows in domain order, every column it
            # reads included, so one index-only scan feeds a streaming GROUP BY domain.
            models.Index(
                fields=["domain", "site"], name="refdomain_gap_live", condition=Q(lost_at__isnull=True),
                include=["backlinks", "follow_backlinks", "reported_backlinks", "semrush_ascore", "ahrefs_dr",
                         "majestic_tf", "first_seen", "tld", "country"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.domain} → {self.site}"


# --- toxicity audit, review decisions and the disavow file (issue 6) ------------------------
# Rows below refer to backlinks by plain id, not by ForeignKey: a cascade from Backlink would
# make Django load every backlink of a site before deleting it (no fast delete). They hang
# off Site, whose delete cascades to each of these tables in one statement.


class LinkToxicity(models.Model):
    """Toxicity of one backlink scoring above 0: its score and which markers fired
    (audit.toxicity.MARKERS bits). A link without a row scores 0.

    Rewritten as a whole per site by each scoring (delete, then one INSERT … SELECT): no unique
    index and no FK constraint on purpose. Re-inserting keys just deleted in the same
    transaction makes every unique check visit the dead rows, and an FK check per row doubles
    the cost; one writer per site (an advisory lock) keeps one row per link. Django still
    cascades a site's delete to these rows.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    backlink_id = models.BigIntegerField(help_text="audit_backlink.id")
    score = models.SmallIntegerField()
    markers = models.IntegerField(help_text="Bitmask of audit.toxicity.MARKERS that fired.")

    class Meta:
        ordering = ["site_id", "-score", "backlink_id"]
        constraints = [models.CheckConstraint(condition=Q(score__gte=0, score__lte=100), name="linktox_score_0_100")]
        indexes = [models.Index(fields=["site", "-score", "backlink_id"], name="linktox_site_score")]

    def __str__(self) -> str:
        return f"backlink {self.backlink_id}: {self.score}"


class RefDomainToxicity(models.Model):
    """Toxicity of one referring domain of a site: its worst link's score, every marker of its links.

    Written with the link scores (one row per domain by GROUP BY; see LinkToxicity for why
    there is no unique index or FK constraint)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    domain = models.CharField(max_length=253, db_collation="C")
    score = models.SmallIntegerField()
    markers = models.IntegerField()
    links = models.IntegerField(help_text="Links scored for this domain.")
    toxic_links = models.IntegerField(help_text="Of which in the toxic band.")

    class Meta:
        ordering = ["site_id", "-score", "domain"]
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=0, score__lte=100), name="domaintox_score_0_100"),
        ]
        indexes = [models.Index(fields=["site", "-score", "domain"], name="domaintox_site_score")]

    def __str__(self) -> str:
        return f"{self.domain}: {self.score}"


class ToxicityRun(models.Model):
    """One scoring of a site's links (after an import, or on request), with its progress."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="toxicity_runs")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    link_import = models.ForeignKey(
        LinkImport, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="The import that triggered it, if one did.",
    )
    status = models.CharField(max_length=16, choices=ToxicityRunStatus.choices, default=ToxicityRunStatus.QUEUED)
    step = models.CharField(max_length=100, blank=True, help_text="What it is doing now.")
    steps_done = models.SmallIntegerField(default=0)
    steps_total = models.SmallIntegerField(default=0)
    links_scored = models.BigIntegerField(default=0)
    domains_scored = models.BigIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["site", "-created_at"], name="toxrun_site_recent")]

    def __str__(self) -> str:
        return f"toxicity of {self.site_id}: {self.status}"


class ReviewDecision(models.Model):
    """One reviewer decision on a link (``backlink_id`` set) or a whole referring domain: history,
    never overwritten; the latest decision for a link or domain is its current status."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="review_decisions")
    domain = models.CharField(max_length=253, db_collation="C", help_text="Registrable domain of the source.")
    backlink_id = models.BigIntegerField(null=True, blank=True, help_text="audit_backlink.id; empty: the domain.")
    source_url = models.TextField(blank=True, help_text="The link's source page when decided (kept if it goes).")
    status = models.CharField(max_length=20, choices=ReviewStatus.choices)
    reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["site_id", "-decided_at", "-id"]
        indexes = [
            models.Index(fields=["site", "domain", "-decided_at"], name="review_site_domain_recent"),
            models.Index(fields=["backlink_id", "-decided_at"], name="review_link_recent",
                         condition=Q(backlink_id__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.source_url or self.domain}: {self.status}"


class DisavowEntry(models.Model):
    """One line of a site's disavow list (``domain:host`` or a URL), with why and who added it.

    Removing an entry sets ``removed_at`` (the row stays: the list's history)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="disavow_entries")
    kind = models.CharField(max_length=8, choices=DisavowKind.choices)
    value = models.TextField(help_text="Host (punycode, www. folded) for domains; the URL for URLs.")
    domain = models.CharField(max_length=253, db_collation="C", help_text="Registrable domain of the value.")
    reason = models.TextField(blank=True)
    origin = models.CharField(max_length=8, choices=DisavowOrigin.choices)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    added_at = models.DateTimeField()
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    removed_at = models.DateTimeField(null=True, blank=True)
    position = models.IntegerField(default=0, help_text="Order within an imported file.")

    class Meta:
        ordering = ["site_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["site", "kind", "value"], condition=Q(removed_at__isnull=True),
                                    name="disavow_entry_active_unique"),
        ]
        indexes = [
            # prospects.selectors.gap.toxic_filter_sql: "is this domain disavowed for the project's site?"
            models.Index(fields=["site", "domain"], name="disavow_active_domain",
                         condition=Q(removed_at__isnull=True, kind="domain")),
        ]

    def __str__(self) -> str:
        return f"domain:{self.value}" if self.kind == DisavowKind.DOMAIN else self.value


class DisavowVersion(models.Model):
    """One exported disavow file of a site, stored as it was downloaded (numbered per site)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="disavow_versions")
    number = models.IntegerField()
    content = models.TextField()
    lines = models.IntegerField(help_text="Non-comment lines (entries).")
    size = models.IntegerField(help_text="Bytes, UTF-8.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["site_id", "-number"]
        constraints = [models.UniqueConstraint(fields=["site", "number"], name="disavow_version_unique")]

    def __str__(self) -> str:
        return f"{self.site_id} v{self.number}"
