"""Writes for users and roles. Roles are Django groups; this module is the only writer."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group
from django.db import transaction

from linkcrm.choices import Role

User = get_user_model()


def roles_ensure() -> None:
    """Create the role groups if they are missing (also done by a data migration)."""
    for role in Role:
        Group.objects.get_or_create(name=role.value)


def generate_password() -> str:
    # 16 URL-safe characters: ~96 bits, typeable, and passes the configured validators.
    return secrets.token_urlsafe(12)


@transaction.atomic
def user_set_role(*, user: AbstractUser, role: Role | None) -> None:
    """Give ``user`` exactly one role (or none). Admins get Django admin access with it."""
    roles_ensure()
    user.groups.remove(*Group.objects.filter(name__in=[r.value for r in Role]))
    if role is not None:
        user.groups.add(Group.objects.get(name=role.value))
    is_admin = role == Role.ADMIN
    if user.is_staff != is_admin or user.is_superuser != is_admin:
        user.is_staff = is_admin
        user.is_superuser = is_admin
        user.save(update_fields=["is_staff", "is_superuser"])
    user.__dict__.pop("_linkcrm_role", None)


@transaction.atomic
def user_create(
    *, username: str, role: Role | None, email: str = "", first_name: str = "", last_name: str = "",
    password: str | None = None,
) -> tuple[AbstractUser, str]:
    """Create a user with a role. Returns the user and the password (generated when not given)."""
    password = password or generate_password()
    user = User.objects.create_user(
        username=username, email=email, password=password, first_name=first_name, last_name=last_name
    )
    user_set_role(user=user, role=role)
    return user, password


@transaction.atomic
def user_set_active(*, user: AbstractUser, active: bool) -> None:
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])


def first_admin_ensure(*, username: str = "admin") -> tuple[AbstractUser, str | None]:
    """The first admin account: created with a generated password when no admin exists.

    Returns the admin and the new password, or None as password when an admin already existed
    (the password is shown once, at creation, and never stored in clear).
    """
    roles_ensure()
    existing = (
        User.objects.filter(is_active=True)
        .filter(is_superuser=True)
        .union(User.objects.filter(is_active=True, groups__name=Role.ADMIN.value))
        .order_by("pk")
        .first()
    )
    if existing is not None:
        return existing, None
    if User.objects.filter(username=username).exists():
        user = User.objects.get(username=username)
        password = generate_password()
        user.set_password(password)
        user.is_active = True
        user.save()
        user_set_role(user=user, role=Role.ADMIN)
        return user, password
    return user_create(username=username, role=Role.ADMIN)
