"""Writes for prospects. Every function owns its transaction."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from prospects.models import Project, ProjectMembership


@transaction.atomic
def project_create(
    *, name: str, created_by: AbstractBaseUser | None, description: str = "",
    members: Iterable[AbstractBaseUser] = (), is_demo: bool = False,
) -> Project:
    project = Project.objects.create(
        name=name.strip(), description=description, created_by=created_by, is_demo=is_demo
    )
    for user in members:
        project_add_member(project=project, user=user, added_by=created_by)
    return project


@transaction.atomic
def project_add_member(*, project: Project, user: AbstractBaseUser, added_by: AbstractBaseUser | None) -> bool:
    """Add ``user`` to ``project``; False when already a member (idempotent)."""
    _, created = ProjectMembership.objects.get_or_create(
        project=project, user=user, defaults={"added_by": added_by}
    )
    return created


@transaction.atomic
def project_remove_member(*, project: Project, user: AbstractBaseUser) -> bool:
    deleted, _ = ProjectMembership.objects.filter(project=project, user=user).delete()
    return deleted > 0


@transaction.atomic
def project_set_members(
    *, project: Project, users: Iterable[AbstractBaseUser], changed_by: AbstractBaseUser | None
) -> None:
    wanted = {user.pk: user for user in users}
    ProjectMembership.objects.filter(project=project).exclude(user_id__in=wanted).delete()
    for user in wanted.values():
        project_add_member(project=project, user=user, added_by=changed_by)
