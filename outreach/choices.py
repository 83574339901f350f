"""Choices for outreach: what an inbound message is."""

from django.db import models


class MessageKind(models.TextChoices):
    """What an inbound message is, as decided by ``outreach.classify.classify_message``.

    Only ``REPLY`` is a person answering; every other kind must never count as a reply.
    """

    REPLY = "reply", "Reply"
    AUTO_REPLY = "auto_reply", "Auto-reply"
    BOUNCE = "bounce", "Bounce"
    COMPLAINT = "complaint", "Complaint"
    # Newsletters and list mail (Precedence: bulk/junk/list, List-Id, List-Unsubscribe).
    BULK = "bulk", "Bulk mail"
    # One of our own messages (Sent folder, echoed back by a list or a BCC).
    OWN = "own", "Our own message"
    # Malformed, or a delivery report that reports no failure.
    UNKNOWN = "unknown", "Unknown"


class SmtpSecurity(models.TextChoices):
    """How the SMTP connection is protected."""

    STARTTLS = "starttls", "STARTTLS (usually port 587)"
    SSL = "ssl", "SSL/TLS (usually port 465)"
    PLAIN = "plain", "None (local sandbox only)"


class MailboxStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    # Paused by a person, or by an authentication failure (see Mailbox.paused_reason).
    PAUSED = "paused", "Paused"


class EnrollmentStatus(models.TextChoices):
    """Where one prospect's run through a sequence is. Active and paused count as "running"."""

    ACTIVE = "active", "Active"
    # Waiting: an auto-reply gave a return date, or a person paused it.
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed (every step sent)"
    STOPPED = "stopped", "Stopped"


RUNNING_ENROLLMENT = (EnrollmentStatus.ACTIVE, EnrollmentStatus.PAUSED)


class StopReason(models.TextChoices):
    REPLIED = "replied", "The contact replied"
    DOMAIN_REPLIED = "domain_replied", "Someone else at the domain replied"
    BOUNCED = "bounced", "Hard bounce"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    COMPLAINED = "complained", "Spam complaint"
    SUPPRESSED = "suppressed", "On the do-not-contact list"
    STAGE = "stage", "The prospect left the outreach stages"
    MANUAL = "manual", "Stopped by a person"
    ERROR = "error", "A step could not be rendered or sent"


class OutboxStatus(models.TextChoices):
    """An outbound message's life: queued → sending → sent | retry | failed | unknown.

    ``unknown``: the SMTP conversation broke after DATA was sent, so the server may have the
    message; it is reconciled against the Sent folder and never resent blindly.
    """

    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    RETRY = "retry", "Waiting to retry"
    FAILED = "failed", "Failed"
    UNKNOWN = "unknown", "In doubt (being reconciled)"
    CANCELLED = "cancelled", "Cancelled before sending"


# Rows a worker may claim (when due).
CLAIMABLE = (OutboxStatus.QUEUED, OutboxStatus.RETRY)


class MatchMethod(models.TextChoices):
    """How an inbound message was tied to one of our threads, strongest first."""

    IN_REPLY_TO = "in_reply_to", "In-Reply-To header"
    REFERENCES = "references", "References header"
    ORIGINAL = "original", "Original message quoted in a bounce or report"
    TOKEN = "token", "Thread token"
    SENDER = "sender", "Sender has an active enrollment"
    NONE = "none", "Not matched"
