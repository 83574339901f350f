from django.apps import AppConfig


class OutreachConfig(AppConfig):
    """Mailboxes, templates, sequences, the outbox and inbox, and reports."""

    name = "outreach"
    default_auto_field = "django.db.models.BigAutoField"
