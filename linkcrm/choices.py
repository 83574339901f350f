"""Choices shared across the project."""

from django.db import models


class Role(models.TextChoices):
    """A user's role; stored as the Django group of the same name.

    Roles are ranked: a manager can do everything outreach staff can, an admin everything a
    manager can. ``RANK`` is the single place that says so.
    """

    OUTREACH = "outreach", "Outreach"
    MANAGER = "manager", "Manager"
    ADMIN = "admin", "Admin"


RANK: dict[str, int] = {Role.OUTREACH: 1, Role.MANAGER: 2, Role.ADMIN: 3}
