from django.apps import AppConfig


class LinkcrmConfig(AppConfig):
    """The project itself: roles, layout, shared helpers and management commands."""

    name = "linkcrm"
    verbose_name = "LinkCRM"
