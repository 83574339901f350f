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
