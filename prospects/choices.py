"""Choices for projects, prospects, contacts and the pipeline."""

from django.db import models


class Stage(models.TextChoices):
    """The pipeline, in order. Rejected sits outside the forward order."""

    IN_PROGRESS = "in_progress", "In Progress"
    TO_CONTACT = "to_contact", "To Contact"
    CONTACTED = "contacted", "Contacted"
    REPLY_RECEIVED = "reply_received", "Reply Received"
    LINK_ACQUIRED = "link_acquired", "Link Acquired"
    REJECTED = "rejected", "Rejected"


# Forward order for automation ("only moves forward"); Rejected has no rank.
STAGE_RANK: dict[str, int] = {
    Stage.IN_PROGRESS: 0,
    Stage.TO_CONTACT: 1,
    Stage.CONTACTED: 2,
    Stage.REPLY_RECEIVED: 3,
    Stage.LINK_ACQUIRED: 4,
}


class RejectReason(models.TextChoices):
    DECLINED = "declined", "Declined"
    UNRESPONSIVE = "unresponsive", "Unresponsive"
    NOT_RELEVANT = "not_relevant", "Not relevant"
    BOUNCED = "bounced", "Bounced"


class ActorKind(models.TextChoices):
    """Who moved a prospect: a person, or an automation (email events, link checks)."""

    PERSON = "person", "Person"
    AUTOMATION = "automation", "Automation"


class ProspectSource(models.TextChoices):
    GAP = "gap", "Backlink gap"
    CSV = "csv", "CSV import"
    MANUAL = "manual", "Added by hand"
    REMOVAL = "removal", "Link removal request"


class PipelineKind(models.TextChoices):
    """Link building (the default) or link removal (toxic links, worked with the same engine)."""

    ACQUISITION = "acquisition", "Link building"
    REMOVAL = "removal", "Link removal"


class ContactSource(models.TextChoices):
    DISCOVERED = "discovered", "Found on the site"
    MANUAL = "manual", "Entered by hand"
    IMPORTED = "imported", "Imported"


class EmailStatus(models.TextChoices):
    UNKNOWN = "unknown", "Not checked"
    VALID = "valid", "Valid"
    NO_MX = "no_mx", "Domain has no mail server"
    INVALID = "invalid", "Invalid syntax"
    BOUNCED = "bounced", "Bounced"


class SuppressionKind(models.TextChoices):
    EMAIL = "email", "Email address"
    DOMAIN = "domain", "Whole domain"


class LinkStatus(models.TextChoices):
    """An acquired link's state, and the outcome of one check."""

    PENDING = "pending", "Not checked yet"
    ACTIVE = "active", "Active"
    CHANGED = "changed", "Changed"
    LOST = "lost", "Lost"
    BROKEN = "broken", "Broken"
    UNDEFINED = "undefined", "Undefined"
