"""Prospects' tables. A Project is "promote my site against these competitor sites".

A Prospect is one registrable domain per project; its stage changes only through
``prospects.services.prospect_move_stage`` (a guarded update plus a StageChange row).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from prospects.choices import (
    ActorKind,
    ContactSource,
    EmailStatus,
    LinkStatus,
    PipelineKind,
    ProspectSource,
    RejectReason,
    Stage,
    SuppressionKind,
)


def default_score_weights() -> dict[str, int]:
    # Percent weights of the prospect score's parts; managers edit them per project.
    return {"authority": 30, "competitors": 25, "freshness": 10, "follow": 10, "relevance": 15, "spam": 10}


class Project(models.Model):
    """A link-building project: one site to promote against competitors, worked by its members."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    site = models.ForeignKey(
        "audit.Site", on_delete=models.PROTECT, null=True, blank=True, related_name="projects",
        help_text="Your site: the one this project promotes.",
    )
    competitors = models.ManyToManyField(
        "audit.Site", through="ProjectCompetitor", related_name="competing_in", blank=True
    )
    brand_terms = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    keywords = ArrayField(
        models.CharField(max_length=100), default=list, blank=True,
        help_text="Topic words: relevance of a prospect from its titles and anchors.",
    )
    score_weights = models.JSONField(default=default_score_weights, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="ProjectMembership", through_fields=("project", "user"),
        related_name="projects", blank=True,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    is_demo = models.BooleanField(default=False, help_text="Created by the demo workspace loader.")

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["name"], name="project_name_unique")]

    def __str__(self) -> str:
        return self.name


class ProjectMembership(models.Model):
    """A user working a project; outreach staff see only projects they are members of."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project_id", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="project_membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.project}"


class ProjectCompetitor(models.Model):
    """A competitor site compared against the project's own site in the gap."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="competitor_links")
    site = models.ForeignKey("audit.Site", on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project_id", "site__domain"]
        constraints = [models.UniqueConstraint(fields=["project", "site"], name="project_competitor_unique")]

    def __str__(self) -> str:
        return f"{self.site} vs {self.project}"


class TargetPage(models.Model):
    """A page of the project's site we want links to (outreach pitches it; monitoring looks for it)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="target_pages")
    url = models.URLField(max_length=2048)
    label = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["project_id", "id"]
        constraints = [models.UniqueConstraint(fields=["project", "url"], name="target_page_unique")]

    def __str__(self) -> str:
        return self.url


class Prospect(models.Model):
    """One referring domain we want a link from (or a removal by), in one project's pipeline."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="prospects")
    domain = models.CharField(max_length=253, help_text="Registrable domain, punycode.")
    pipeline = models.CharField(max_length=16, choices=PipelineKind.choices, default=PipelineKind.ACQUISITION)
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.IN_PROGRESS)
    reject_reason = models.CharField(max_length=16, choices=RejectReason.choices, blank=True)
    stage_changed_at = models.DateTimeField(auto_now_add=True)
    # The last move made by a person: automation never overrides a person's later move.
    person_moved_at = models.DateTimeField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="prospects"
    )
    source = models.CharField(max_length=16, choices=ProspectSource.choices, default=ProspectSource.MANUAL)
    score = models.SmallIntegerField(default=0, help_text="0-100, see score_breakdown.")
    score_breakdown = models.JSONField(default=dict, blank=True)
    authority = models.SmallIntegerField(null=True, blank=True)
    competitors_linked = models.SmallIntegerField(default=0)
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    flagged = models.BooleanField(default=False)
    flag_reason = models.CharField(max_length=200, blank=True)
    linking_page_url = models.URLField(max_length=2048, blank=True, help_text="Evidence for Link Acquired.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-score", "domain"]
        constraints = [
            models.UniqueConstraint(fields=["project", "pipeline", "domain"], name="prospect_project_domain_unique"),
            models.CheckConstraint(
                condition=Q(stage=Stage.REJECTED) | Q(reject_reason=""), name="prospect_reason_only_when_rejected"
            ),
            models.CheckConstraint(condition=Q(score__gte=0, score__lte=100), name="prospect_score_0_100"),
        ]
        indexes = [
            models.Index(fields=["project", "stage", "-score"], name="prospect_board"),
            models.Index(fields=["assignee", "stage"], name="prospect_assignee_stage"),
        ]

    def __str__(self) -> str:
        return self.domain


class StageChange(models.Model):
    """One move of a prospect between stages: from, to, who or which automation, when, why."""

    prospect = models.ForeignKey(Prospect, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)  # blank: created
    to_stage = models.CharField(max_length=20, choices=Stage.choices)
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    automation = models.CharField(max_length=64, blank=True, help_text="Which automation, e.g. 'email.reply'.")
    reason = models.TextField(blank=True)
    reject_reason = models.CharField(max_length=16, choices=RejectReason.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["prospect_id", "created_at", "id"]
        indexes = [models.Index(fields=["prospect", "created_at"], name="stagechange_prospect_time")]

    def __str__(self) -> str:
        return f"{self.prospect}: {self.from_stage or '∅'} → {self.to_stage}"


class Contact(models.Model):
    """A person (or role address) at a prospect's site we may write to."""

    prospect = models.ForeignKey(Prospect, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=100, blank=True)
    source = models.CharField(max_length=16, choices=ContactSource.choices, default=ContactSource.MANUAL)
    source_url = models.URLField(max_length=2048, blank=True, help_text="Page the address was found on.")
    email_status = models.CharField(max_length=16, choices=EmailStatus.choices, default=EmailStatus.UNKNOWN)
    is_primary = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["prospect_id", "-is_primary", "email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), "prospect", name="contact_prospect_email_unique"),
        ]

    def __str__(self) -> str:
        return self.email


class Suppression(models.Model):
    """Do-not-contact: an email address or a whole domain, for one project or for all (project null)."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, null=True, blank=True, related_name="suppressions"
    )
    kind = models.CharField(max_length=8, choices=SuppressionKind.choices)
    value = models.CharField(max_length=254, help_text="Lower-case email, or registrable domain in punycode.")
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "kind", "value"],
                name="suppression_project_unique",
                condition=Q(project__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["kind", "value"], name="suppression_global_unique", condition=Q(project__isnull=True)
            ),
        ]
        indexes = [models.Index(fields=["kind", "value"], name="suppression_lookup")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class Note(models.Model):
    """A free-text note on a prospect."""

    prospect = models.ForeignKey(Prospect, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["prospect_id", "-created_at"]

    def __str__(self) -> str:
        return self.body[:50]


class Reminder(models.Model):
    """Something to do about a prospect by a due date; shows on the assignee's dashboard."""

    prospect = models.ForeignKey(Prospect, on_delete=models.CASCADE, related_name="reminders")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders")
    due_at = models.DateTimeField()
    text = models.CharField(max_length=300)
    done_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["assignee", "done_at", "due_at"], name="reminder_open_by_assignee")]

    def __str__(self) -> str:
        return self.text


# --- acquired-link monitoring (prospects.services.monitoring writes these) ----------------------


class AcquiredLink(models.Model):
    """The link a prospect gave us, watched on its page: current status and when to look again.

    ``status`` is the confirmed state: a Lost or Broken check only becomes the status after
    ``failures`` reaches LINKCRM_LINKCHECK_CONFIRM_FAILURES consecutive failed checks;
    ``last_outcome`` is what the latest check saw. Changed only through guarded updates
    (``… WHERE status = <old>``); every check leaves a LinkCheck row.
    """

    prospect = models.OneToOneField(Prospect, on_delete=models.CASCADE, related_name="acquired_link")
    page_url = models.URLField(max_length=2048, help_text="The linking page being checked.")
    host = models.CharField(max_length=253, help_text="Host of page_url: requests are paced per host.")
    status = models.CharField(max_length=16, choices=LinkStatus.choices, default=LinkStatus.PENDING)
    last_outcome = models.CharField(max_length=16, choices=LinkStatus.choices, blank=True)
    failures = models.SmallIntegerField(default=0, help_text="Consecutive Lost/Broken checks.")
    anchor = models.TextField(blank=True, help_text="Anchor of the last live check.")
    rel = models.CharField(max_length=64, blank=True, help_text="nofollow/sponsored/ugc of the last live check.")
    target_url = models.TextField(blank=True, help_text="The href of our link, as last seen.")
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_live_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(db_index=True)
    loss_confirmed_at = models.DateTimeField(null=True, blank=True)
    reclaimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["next_check_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(failures__gte=0), name="acquired_link_failures_not_negative"),
        ]
        indexes = [models.Index(fields=["status", "loss_confirmed_at"], name="acquired_link_status")]

    def __str__(self) -> str:
        return f"{self.page_url} ({self.status})"


class LinkCheck(models.Model):
    """One look at a linking page: what it answered, the link found (or not), and the status after."""

    link = models.ForeignKey(AcquiredLink, on_delete=models.CASCADE, related_name="checks")
    checked_at = models.DateTimeField()
    host = models.CharField(max_length=253)
    page_url = models.TextField()
    final_url = models.TextField(blank=True)
    outcome = models.CharField(max_length=16, choices=LinkStatus.choices)
    status_before = models.CharField(max_length=16, choices=LinkStatus.choices)
    status_after = models.CharField(max_length=16, choices=LinkStatus.choices)
    failures = models.SmallIntegerField(default=0, help_text="Consecutive failures after this check.")
    http_status = models.SmallIntegerField(null=True, blank=True)
    target_url = models.TextField(blank=True)
    anchor = models.TextField(blank=True)
    rel = models.CharField(max_length=64, blank=True)
    matching_links = models.SmallIntegerField(default=0)
    noindex = models.BooleanField(default=False)
    noindex_source = models.CharField(max_length=16, blank=True, help_text="meta, header or both.")
    canonical = models.TextField(blank=True)
    error = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    automation = models.CharField(max_length=64, blank=True, help_text="e.g. 'linkcheck.sweep'.")

    class Meta:
        ordering = ["link_id", "-checked_at", "-id"]
        indexes = [
            models.Index(fields=["link", "-checked_at"], name="linkcheck_link_time"),
            # Politeness: when did we last ask this host?
            models.Index(fields=["host", "-checked_at"], name="linkcheck_host_time"),
        ]

    def __str__(self) -> str:
        return f"{self.page_url}: {self.outcome}"
