"""Outreach's tables: mailboxes, templates, sequences, enrollments, the outbox and the inbox.

Every outbound email is an :class:`OutboundMessage` row before it is sent (DESIGN.md §4.3);
status changes go through guarded updates logged in :class:`OutboundTransition`. Inbound
mail is stored once per mailbox and Message-ID (:class:`InboundMessage`), so a re-sync after
a UIDVALIDITY change never processes a message twice.
"""

from __future__ import annotations

import datetime as dt
import secrets as pysecrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from outreach.choices import (
    RUNNING_ENROLLMENT,
    EnrollmentStatus,
    MailboxStatus,
    MatchMethod,
    MessageKind,
    OutboxStatus,
    SmtpSecurity,
    StopReason,
)
from outreach.secrets import EncryptedTextField, decrypt_secret, encrypt_secret

WEEKDAYS = [0, 1, 2, 3, 4]  # Monday..Friday, Python's weekday() numbering


def default_window_days() -> list[int]:
    return list(WEEKDAYS)


def default_watch_folders() -> list[str]:
    return ["INBOX"]


def new_thread_token() -> str:
    """12 lower-case hex characters: short enough for a Message-ID, unguessable enough."""
    return pysecrets.token_hex(6)


class Mailbox(models.Model):
    """One of the user's own email accounts: SMTP to send, IMAP to read replies."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="mailboxes")
    name = models.CharField(max_length=100, help_text="A label for people, e.g. 'Sam – Gmail'.")
    from_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(max_length=254)
    signature = models.TextField(blank=True)

    smtp_host = models.CharField(max_length=253)
    smtp_port = models.PositiveIntegerField(default=587)
    smtp_security = models.CharField(max_length=8, choices=SmtpSecurity.choices, default=SmtpSecurity.STARTTLS)
    smtp_username = models.CharField(max_length=254, blank=True)
    smtp_password = EncryptedTextField(blank=True)

    imap_host = models.CharField(max_length=253, blank=True)
    imap_port = models.PositiveIntegerField(default=993)
    imap_ssl = models.BooleanField(default=True)
    imap_username = models.CharField(max_length=254, blank=True)
    imap_password = EncryptedTextField(blank=True)
    watch_folders = models.JSONField(default=default_watch_folders, blank=True)
    sent_folder = models.CharField(max_length=200, default="Sent", blank=True)
    # Gmail and most hosted providers file what you submit over SMTP in Sent themselves;
    # elsewhere we APPEND a copy after sending, as a mail client would. Off by default: a
    # message in doubt that is missing from Sent is only retried when the server is known to
    # file every submission, so a wrong "on" could send twice and a wrong "off" never does.
    server_saves_sent = models.BooleanField(default=False)

    daily_cap = models.PositiveIntegerField(default=50, help_text="Most messages sent per day (mailbox's time zone).")
    min_gap_seconds = models.PositiveIntegerField(default=120)
    gap_jitter_seconds = models.PositiveIntegerField(default=60, help_text="Random extra wait added to the gap.")
    window_days = models.JSONField(default=default_window_days, blank=True, help_text="0=Monday … 6=Sunday.")
    window_start = models.TimeField(default=dt.time(9, 0))
    window_end = models.TimeField(default=dt.time(17, 0))
    timezone = models.CharField(max_length=64, default="UTC")

    status = models.CharField(max_length=8, choices=MailboxStatus.choices, default=MailboxStatus.ACTIVE)
    paused_reason = models.CharField(max_length=300, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    # The earliest moment the next message may leave (last send + gap + jitter); set at claim.
    next_send_at = models.DateTimeField(null=True, blank=True)
    is_demo = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["email"], name="mailbox_email_unique"),
            models.CheckConstraint(condition=Q(daily_cap__lte=10_000), name="mailbox_daily_cap_sane"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    def set_smtp_password(self, plain: str) -> None:
        self.smtp_password = encrypt_secret(plain) if plain else ""

    def get_smtp_password(self) -> str:
        return decrypt_secret(self.smtp_password) if self.smtp_password else ""

    def set_imap_password(self, plain: str) -> None:
        self.imap_password = encrypt_secret(plain) if plain else ""

    def get_imap_password(self) -> str:
        return decrypt_secret(self.imap_password) if self.imap_password else ""

    @property
    def message_id_domain(self) -> str:
        return self.email.rpartition("@")[2].lower()


class MailboxFolder(models.Model):
    """IMAP sync state of one watched folder: what we have already read, never a flag changed."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="folders")
    name = models.CharField(max_length=200)
    uidvalidity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["mailbox_id", "name"]
        constraints = [models.UniqueConstraint(fields=["mailbox", "name"], name="mailbox_folder_unique")]

    def __str__(self) -> str:
        return f"{self.mailbox.email}/{self.name}"


class EmailTemplate(models.Model):
    """An email template; its current text, with every saved text kept as a TemplateVersion."""

    name = models.CharField(max_length=200, unique=True)
    subject = models.CharField(max_length=998)
    text = models.TextField()
    html = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=0, help_text="Number of the current TemplateVersion.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    archived = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TemplateVersion(models.Model):
    """One saved text of a template; messages point here, so a report knows what was sent."""

    template = models.ForeignKey(EmailTemplate, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    subject = models.CharField(max_length=998)
    text = models.TextField()
    html = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["template_id", "-number"]
        constraints = [models.UniqueConstraint(fields=["template", "number"], name="template_version_unique")]

    def __str__(self) -> str:
        return f"{self.template.name} v{self.number}"


class Sequence(models.Model):
    """An ordered list of steps (first email, then follow-ups) prospects are enrolled in."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    archived = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SequenceStep(models.Model):
    """Step ``position`` (1 = first email): its template and its wait after the previous step."""

    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    template = models.ForeignKey(EmailTemplate, on_delete=models.PROTECT, related_name="steps")
    delay_days = models.PositiveSmallIntegerField(default=0, help_text="Wait after the previous step (0 for step 1).")
    business_days = models.BooleanField(default=False, help_text="Count only Monday–Friday.")

    class Meta:
        ordering = ["sequence_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["sequence", "position"], name="sequence_step_unique"),
            models.CheckConstraint(condition=Q(position__gte=1), name="sequence_step_position_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.sequence.name} #{self.position}"


class Enrollment(models.Model):
    """One prospect's contact going through one sequence, from one mailbox (one thread)."""

    sequence = models.ForeignKey(Sequence, on_delete=models.PROTECT, related_name="enrollments")
    prospect = models.ForeignKey("prospects.Prospect", on_delete=models.CASCADE, related_name="enrollments")
    contact = models.ForeignKey("prospects.Contact", on_delete=models.CASCADE, related_name="enrollments")
    mailbox = models.ForeignKey(Mailbox, on_delete=models.PROTECT, related_name="enrollments")
    # The page of ours this thread asks a link to ({{ target_page }} in templates); optional.
    target_page = models.ForeignKey(
        "prospects.TargetPage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Denormalised from prospect.domain: "no two running enrollments at one domain" is a lookup.
    domain = models.CharField(max_length=253)
    status = models.CharField(max_length=10, choices=EnrollmentStatus.choices, default=EnrollmentStatus.ACTIVE)
    stop_reason = models.CharField(max_length=16, choices=StopReason.choices, blank=True)
    # Position of the last step queued (0: none yet) and when the next one is due.
    current_step = models.PositiveSmallIntegerField(default=0)
    next_step_at = models.DateTimeField(null=True, blank=True)
    paused_until = models.DateTimeField(null=True, blank=True)
    thread_token = models.CharField(max_length=24, default=new_thread_token, unique=True)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    enrolled_at = models.DateTimeField(auto_now_add=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-enrolled_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["prospect"],
                condition=Q(status__in=RUNNING_ENROLLMENT),
                name="enrollment_one_running_per_prospect",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_step_at"], name="enrollment_due_idx"),
            models.Index(fields=["domain", "status"], name="enrollment_domain_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.prospect} in {self.sequence}"


class OutboundMessage(models.Model):
    """One email we send (or sent), rendered and given its Message-ID before any SMTP happens."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.PROTECT, related_name="outbound")
    enrollment = models.ForeignKey(
        Enrollment, null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    step = models.ForeignKey(SequenceStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    step_position = models.PositiveSmallIntegerField(null=True, blank=True)
    template_version = models.ForeignKey(
        TemplateVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="messages"
    )
    prospect = models.ForeignKey(
        "prospects.Prospect", null=True, blank=True, on_delete=models.CASCADE, related_name="outbound_messages"
    )
    contact = models.ForeignKey(
        "prospects.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="outbound_messages"
    )
    from_address = models.EmailField(max_length=254)
    from_name = models.CharField(max_length=100, blank=True)
    to_address = models.EmailField(max_length=254)
    to_name = models.CharField(max_length=200, blank=True)
    subject = models.CharField(max_length=998)
    text = models.TextField()
    html = models.TextField(blank=True)
    message_id = models.CharField(max_length=255, unique=True, help_text="With angle brackets.")
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    unsubscribe_url = models.CharField(max_length=2048, blank=True)

    status = models.CharField(max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.QUEUED)
    due_at = models.DateTimeField(help_text="Not sent before this moment (retries push it later).")
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    smtp_code = models.SmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The claim query: due rows per status; partial so sent history does not bloat it.
            models.Index(
                fields=["due_at"], name="outbound_claimable_idx", condition=Q(status__in=["queued", "retry"])
            ),
            models.Index(fields=["status", "claimed_at"], name="outbound_status_claimed_idx"),
            models.Index(fields=["mailbox", "sent_at"], name="outbound_mailbox_sent_idx"),
            # Reports (outreach.reports.selectors): the emails sent in a period, and a prospect's
            # latest send (stale prospects); partial, so queued/failed rows stay out of both.
            models.Index(fields=["sent_at"], name="outbound_sent_at_idx", condition=Q(status="sent")),
            models.Index(
                fields=["prospect", "sent_at"], name="outbound_prospect_sent_idx", condition=Q(status="sent")
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "step_position"],
                condition=Q(enrollment__isnull=False),
                name="outbound_one_per_step",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} → {self.to_address} ({self.status})"


class OutboundTransition(models.Model):
    """The log of an outbound message's status changes (who/what moved it, and why)."""

    message = models.ForeignKey(OutboundMessage, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=10, choices=OutboxStatus.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=OutboxStatus.choices)
    detail = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["message_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.message_id}: {self.from_status or '∅'} → {self.to_status}"


class InboundMessage(models.Model):
    """A message read from a watched IMAP folder, classified and (when possible) tied to a thread."""

    # No index of its own: inbound_dedupe_unique (mailbox, dedupe_key) serves every lookup by mailbox.
    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="inbound", db_index=False)
    folder = models.CharField(max_length=200)
    uidvalidity = models.BigIntegerField()
    uid = models.BigIntegerField()
    # Message-ID, or "sha256:<hex of the raw bytes>" when the message has none.
    dedupe_key = models.CharField(max_length=255)
    message_id = models.CharField(max_length=255, blank=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    from_address = models.CharField(max_length=254, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    to_addresses = models.TextField(blank=True)
    subject = models.CharField(max_length=998, blank=True)
    date = models.DateTimeField(null=True, blank=True)
    text = models.TextField(blank=True, help_text="Readable body (HTML converted), capped.")
    raw_size = models.PositiveIntegerField(default=0)

    kind = models.CharField(max_length=12, choices=MessageKind.choices)
    kind_reason = models.CharField(max_length=300, blank=True)
    # Bounces: the failed recipient and whether the failure condemns the address.
    failed_recipient = models.CharField(max_length=254, blank=True)
    permanent = models.BooleanField(null=True, blank=True)
    status_code = models.CharField(max_length=16, blank=True)
    return_date = models.DateField(null=True, blank=True)

    match_method = models.CharField(max_length=12, choices=MatchMethod.choices, default=MatchMethod.NONE)
    match_detail = models.CharField(max_length=300, blank=True)
    matched_message = models.ForeignKey(
        OutboundMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="responses"
    )
    enrollment = models.ForeignKey(
        Enrollment, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound"
    )
    # No index of its own: inbound_prospect_idx (prospect, received_at) serves every lookup by prospect.
    prospect = models.ForeignKey(
        "prospects.Prospect", null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_messages",
        db_index=False,
    )  # fmt: skip
    # Replies a person should read; cleared when someone marks the message handled.
    needs_attention = models.BooleanField(default=False)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "dedupe_key"], name="inbound_dedupe_unique"),
        ]
        indexes = [
            models.Index(fields=["needs_attention", "received_at"], name="inbound_attention_idx"),
            models.Index(fields=["prospect", "received_at"], name="inbound_prospect_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.subject[:60]}"


class ReportSubscription(models.Model):
    """A person's opt-in to the weekly report digest (managers and admins; see outreach.reports.digest)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_subscription")
    weekly_digest = models.BooleanField(default=True)
    # When the last digest was queued for this person: a second run within the week sends nothing.
    last_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user_id"]

    def __str__(self) -> str:
        return f"digest for {self.user_id} ({'on' if self.weekly_digest else 'off'})"


# --- report roll-ups (outreach.reports.facts) -------------------------------------------------------
# Derived rows the reports read instead of re-deriving them from the outbox and the stage log on
# every page view. They hold nothing that is not in their source rows: `facts_refresh` rebuilds a
# prospect's rows from scratch, and report queries read live sources for any prospect with rows
# newer than the roll-up (so figures are exact either way; see docs/reports.md, "Speed").


class ReportFactsState(models.Model):
    """How far one roll-up is built: every source row dated before ``built_upto`` (and inserted up to
    ``built_upto_id``) is in it."""

    name = models.CharField(max_length=16, primary_key=True)
    built_upto = models.DateTimeField()
    # ...and every source row with an id up to this one (rows written with a date in the past).
    built_upto_id = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} built up to {self.built_upto:%Y-%m-%d %H:%M}"


class SentFact(models.Model):
    """One sent email of a prospect with its report groups and, per group, the prospect's previous send.

    ``prev_*``: when the same prospect was last sent an email of the same group (same sequence,
    template, …) before this one — so "first of its group in the period" is one comparison, and
    a period's distinct prospects per group are counted without sorting.
    """

    message = models.OneToOneField(OutboundMessage, on_delete=models.CASCADE, primary_key=True, related_name="+")
    prospect_id = models.BigIntegerField()
    sent_at = models.DateTimeField()
    sequence_id = models.BigIntegerField(null=True)
    template_id = models.BigIntegerField(null=True)
    template_version_id = models.BigIntegerField(null=True)
    step_position = models.IntegerField(null=True)
    mailbox_id = models.BigIntegerField()
    prev_any = models.DateTimeField(null=True)
    prev_sequence = models.DateTimeField(null=True)
    prev_template = models.DateTimeField(null=True)
    prev_version = models.DateTimeField(null=True)
    prev_step = models.DateTimeField(null=True)
    prev_mailbox = models.DateTimeField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["sent_at"], name="sentfact_sent_at_idx"),
            models.Index(fields=["prospect_id"], name="sentfact_prospect_idx"),
        ]

    def __str__(self) -> str:
        return f"sent {self.message_id} to prospect {self.prospect_id}"


class StageFact(models.Model):
    """One stage-log move with what the funnel needs about the prospect's other moves.

    ``prev_same_at``: the prospect's previous move into the same stage; ``left_at``: its next
    move at all (the end of this stay); ``reached``: it later (or at the same moment) moved into
    a stage further along the ordered funnel.
    """

    change = models.OneToOneField("prospects.StageChange", on_delete=models.CASCADE, primary_key=True,
                                  related_name="+")  # fmt: skip
    prospect_id = models.BigIntegerField()
    to_stage = models.CharField(max_length=20)
    created_at = models.DateTimeField()
    prev_same_at = models.DateTimeField(null=True)
    left_at = models.DateTimeField(null=True)
    reached = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["created_at"], name="stagefact_created_at_idx"),
            models.Index(fields=["prospect_id"], name="stagefact_prospect_idx"),
        ]

    def __str__(self) -> str:
        return f"move {self.change_id} of prospect {self.prospect_id} to {self.to_stage}"
