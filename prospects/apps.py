from django.apps import AppConfig


class ProspectsConfig(AppConfig):
    """Projects, the backlink gap, prospects, contacts and the stage pipeline."""

    name = "prospects"
    default_auto_field = "django.db.models.BigAutoField"
