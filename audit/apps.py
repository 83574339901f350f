from django.apps import AppConfig


class AuditConfig(AppConfig):
    """Sites and their link profiles, and the health of those profiles."""

    name = "audit"
    default_auto_field = "django.db.models.BigAutoField"
