"""Choices for sites, imports and backlinks."""

from django.db import models


class Provider(models.TextChoices):
    """Where backlink data came from. Bit values below let one link remember every reporter."""

    SEMRUSH = "semrush", "Semrush"
    AHREFS = "ahrefs", "Ahrefs"
    GSC = "gsc", "Google Search Console"
    MAJESTIC = "majestic", "Majestic"
    GENERIC = "generic", "Generic CSV"
    VERIFIED = "verified", "Verified by LinkCRM"


PROVIDER_BIT: dict[str, int] = {
    Provider.SEMRUSH: 1,
    Provider.AHREFS: 2,
    Provider.GSC: 4,
    Provider.MAJESTIC: 8,
    Provider.GENERIC: 16,
    Provider.VERIFIED: 32,
}


class ImportFormat(models.TextChoices):
    SEMRUSH_BACKLINKS = "semrush_backlinks", "Semrush Backlinks"
    SEMRUSH_REFDOMAINS = "semrush_refdomains", "Semrush Referring Domains"
    SEMRUSH_AUDIT = "semrush_audit", "Semrush Backlink Audit"
    SEMRUSH_API = "semrush_api", "Semrush API"
    AHREFS_BACKLINKS = "ahrefs_backlinks", "Ahrefs Backlinks"
    AHREFS_REFDOMAINS = "ahrefs_refdomains", "Ahrefs Referring domains"
    GSC_LATEST_LINKS = "gsc_latest_links", "Search Console Latest links"
    GSC_SAMPLE_LINKS = "gsc_sample_links", "Search Console More sample links"
    GSC_TOP_SITES = "gsc_top_sites", "Search Console Top linking sites"
    MAJESTIC_BACKLINKS = "majestic_backlinks", "Majestic Backlinks"
    GENERIC_CSV = "generic_csv", "Generic CSV (mapped columns)"


class ImportKind(models.TextChoices):
    """What a format's rows are: one per link, or one per referring domain."""

    BACKLINKS = "backlinks", "Backlinks"
    REFDOMAINS = "refdomains", "Referring domains"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class LinkType(models.TextChoices):
    TEXT = "text", "Text"
    IMAGE = "image", "Image"
    FORM = "form", "Form"
    FRAME = "frame", "Frame"
    REDIRECT = "redirect", "Redirect"
    OTHER = "other", "Other"


class AnchorCategory(models.TextChoices):
    BRANDED = "branded", "Branded"
    NAKED_URL = "naked_url", "Naked URL"
    GENERIC = "generic", "Generic"
    EXACT_MATCH = "exact", "Exact match"
    PARTIAL_MATCH = "partial", "Partial match"
    COMPOUND = "compound", "Compound"
    EMPTY = "empty", "Empty or image"
    OTHER = "other", "Other"


class ToxicityBand(models.TextChoices):
    """Where a toxicity score falls; the limits are settings (LINKCRM_TOXIC_MIN, ..._POTENTIAL_MIN)."""

    TOXIC = "toxic", "Toxic"
    POTENTIAL = "potential", "Potentially toxic"
    NON_TOXIC = "non_toxic", "Non-toxic"


class ToxicityRunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class ReviewStatus(models.TextChoices):
    """A reviewer's decision on a link or a whole referring domain (For review: none yet)."""

    FOR_REVIEW = "for_review", "For review"
    WHITELISTED = "whitelisted", "Whitelisted"
    MONITOR = "monitor", "Monitor"
    REMOVAL_REQUESTED = "removal_requested", "Removal requested"
    DISAVOWED = "disavowed", "Disavowed"


class DisavowKind(models.TextChoices):
    """A disavow line: a whole host (``domain:``) or one URL."""

    DOMAIN = "domain", "Domain"
    URL = "url", "URL"


class DisavowOrigin(models.TextChoices):
    """How an entry got onto the list."""

    REVIEW = "review", "Review decision"
    IMPORT = "import", "Imported file"
