"""The one permission helper every page and API endpoint uses.

Pages declare the least role they need with ``@role_required(Role.X)`` (function views),
``RoleRequiredMixin`` (class views) or ``@public`` (login and friends); API views use
``HasRole`` through ``required_role`` (``HasAnyRole`` is DRF's default). The declaration is
stored on the view so ``tests/test_url_permissions.py`` can walk every URL and prove that an
outsider and a lower role are refused: a page added without a declaration fails the suite.

Object-level rules (project membership) live in selectors: a view asks
``prospects.selectors.projects.project_get_for_user`` and gets 404 for a project it may not see.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from rest_framework.permissions import BasePermission

from linkcrm.choices import RANK, Role

PUBLIC = "public"
ROLE_ATTRIBUTE = "linkcrm_role"

View = TypeVar("View", bound=Callable[..., HttpResponse])
AnyUser = AbstractBaseUser | AnonymousUser


def user_role(user: AnyUser) -> Role | None:
    """The user's highest role, or None for outsiders (and inactive or anonymous users)."""
    if not user.is_authenticated or not user.is_active:
        return None
    cached = getattr(user, "_linkcrm_role", False)
    if cached is not False:
        return cached
    if user.is_superuser:
        role: Role | None = Role.ADMIN
    else:
        names = set(user.groups.values_list("name", flat=True))
        ranked = sorted((Role(name) for name in names if name in RANK), key=RANK.__getitem__)
        role = ranked[-1] if ranked else None
    user._linkcrm_role = role  # one query per request, not per check
    return role


def has_role(user: AnyUser, minimum: Role) -> bool:
    role = user_role(user)
    return role is not None and RANK[role] >= RANK[minimum]


def check_role(request: HttpRequest, minimum: Role) -> HttpResponse | None:
    """None when allowed; a login redirect for anonymous users; raises 403 for the rest."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not has_role(request.user, minimum):
        raise PermissionDenied("Your role does not allow this page.")
    return None


def role_required(minimum: Role) -> Callable[[View], View]:
    """Decorator for function views: the least role that may open the page."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            refused = check_role(request, minimum)
            if refused is not None:
                return refused
            return view(request, *args, **kwargs)

        setattr(wrapper, ROLE_ATTRIBUTE, minimum)
        return wrapper  # type: ignore[return-value]

    return decorator


def public(view: View) -> View:
    """Mark a view that anyone may open (login, logout, signed one-click links)."""
    setattr(view, ROLE_ATTRIBUTE, PUBLIC)
    return view


class RoleRequiredMixin:
    """Class-based views: set ``required_role``; checked before anything else runs."""

    required_role: Role = Role.OUTREACH

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        refused = check_role(request, self.required_role)
        if refused is not None:
            return refused
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class HasRole(BasePermission):
    """DRF: the view's ``required_role`` (default: outreach, the least role)."""

    message = "Your role does not allow this action."

    def has_permission(self, request: Any, view: Any) -> bool:
        minimum = getattr(view, "required_role", Role.OUTREACH)
        return has_role(request.user, minimum)


class HasAnyRole(HasRole):
    """DRF's default permission: any role at all; outsiders and anonymous users are refused."""


def declared_role(callback: Callable[..., Any]) -> str | None:
    """What a resolved URL callback declares: a Role, ``PUBLIC``, or None when undeclared."""
    declared = getattr(callback, ROLE_ATTRIBUTE, None)
    if declared is not None:
        return declared
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view_class is not None:
        if getattr(view_class, "public", False):
            return PUBLIC
        role = getattr(view_class, "required_role", None)
        if role is not None:
            return role
        permission_classes = getattr(view_class, "permission_classes", ())
        if any(issubclass(klass, HasRole) for klass in permission_classes):
            return Role.OUTREACH
    return None
