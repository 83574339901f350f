"""Prospects' tables. A Project is "promote my site against these competitor sites"."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Project(models.Model):
    """A link-building project: one site to promote, worked by its members."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
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
