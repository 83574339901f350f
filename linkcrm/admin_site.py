"""Django admin behind the admin role, answering 403 (not a login loop) to other users."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path

from linkcrm.choices import Role
from linkcrm.permissions import ROLE_ATTRIBUTE, has_role, public


class LinkCRMAdminSite(admin.AdminSite):
    site_header = "LinkCRM administration"
    site_title = "LinkCRM admin"
    index_title = "Administration"
    site_url = "/"
    final_catch_all_view = False

    def has_permission(self, request: HttpRequest) -> bool:
        return has_role(request.user, Role.ADMIN)

    def admin_view(self, view: Any, cacheable: bool = False) -> Any:
        wrapped = super().admin_view(view, cacheable)

        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not self.has_permission(request):
                raise PermissionDenied("The admin area is for admins.")
            return wrapped(request, *args, **kwargs)

        guarded.csrf_exempt = getattr(wrapped, "csrf_exempt", False)  # type: ignore[attr-defined]
        setattr(guarded, ROLE_ATTRIBUTE, Role.ADMIN)
        return guarded

    def get_urls(self) -> list[Any]:
        urls = super().get_urls()

        # One login page for the whole product: the admin's own form would be a second door.
        @public
        def login(request: HttpRequest) -> HttpResponse:
            if request.user.is_authenticated and not self.has_permission(request):
                raise PermissionDenied("The admin area is for admins.")
            return redirect_to_login(request.GET.get("next") or "/admin/")

        urls = [u for u in urls if getattr(u, "name", None) != "login"]
        _declare_admin(urls)
        return [path("login/", login, name="login"), *urls]


def _declare_admin(patterns: list[Any]) -> None:
    """Record on every admin URL that it needs the admin role (``admin_view`` enforces it).

    Django wraps each admin view in a fresh function, so the declaration made in
    ``admin_view`` is not visible on the URL's callback; the URL walk test reads this one.
    """
    for entry in patterns:
        if isinstance(entry, URLResolver):
            _declare_admin(entry.url_patterns)
        elif isinstance(entry, URLPattern) and getattr(entry.callback, ROLE_ATTRIBUTE, None) is None:
            setattr(entry.callback, ROLE_ATTRIBUTE, Role.ADMIN)
