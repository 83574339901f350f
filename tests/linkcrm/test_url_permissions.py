"""Every URL refuses outsiders and lower roles: a page added without a check fails here."""

from __future__ import annotations

import pytest
from django.test import override_settings

from linkcrm.choices import RANK, Role
from linkcrm.permissions import PUBLIC, declared_role
from tests.linkcrm.urlwalk import walk

pytestmark = pytest.mark.django_db

# Static files are served by whitenoise's middleware, not by URL patterns.
# The signed one-click unsubscribe link (RFC 8058) must work without a login.
PUBLIC_NAMES = {"login", "logout", "admin:login", "outreach:unsubscribe"}


def routes():
    return list(walk())


def test_every_url_declares_who_may_open_it():
    undeclared = [f"{r.name} {r.path}" for r in routes() if declared_role(r.callback) is None]
    assert undeclared == [], "views without role_required/RoleRequiredMixin/HasRole/public"


def test_only_the_login_pages_are_public():
    public = {r.name for r in routes() if declared_role(r.callback) == PUBLIC}
    assert public == PUBLIC_NAMES


def test_anonymous_visitors_are_sent_to_login_or_refused(client_for):
    client = client_for(None)
    for route in routes():
        if declared_role(route.callback) == PUBLIC:
            continue
        response = client.get(route.path)
        if route.path.startswith("/api/"):
            assert response.status_code in (401, 403), route
        else:
            assert response.status_code == 302, route
            assert response["Location"].startswith("/login/"), route


def test_outsiders_and_lower_roles_get_403(cast, client_for):
    users_by_role = {None: cast["outsider"], Role.OUTREACH: cast["alice"], Role.MANAGER: cast["manager"]}
    clients = {role: client_for(user) for role, user in users_by_role.items()}
    checked = 0
    for route in routes():
        required = declared_role(route.callback)
        if required == PUBLIC:
            continue
        lower = [role for role in users_by_role if role is None or RANK[role] < RANK[Role(required)]]
        for role in lower:
            for method in ("get", "post"):
                response = getattr(clients[role], method)(route.path)
                assert response.status_code == 403, (route, role, method, response.status_code)
                checked += 1
    assert checked > 50  # the walk really covered the product, not an empty list


def test_allowed_roles_get_past_the_check(cast, client_for):
    """The declared role itself is let through (so the 403s above come from the role check)."""
    client = client_for(cast["manager"])
    assert client.get("/projects/new/").status_code == 200
    assert client_for(cast["alice"]).get("/projects/new/").status_code == 403
    assert client_for(cast["admin"]).get("/users/").status_code == 200
    assert client.get("/users/").status_code == 403


def _undeclared_view(request):
    from django.http import HttpResponse

    return HttpResponse("open to all")


urlpatterns = []


def test_the_walk_catches_a_page_without_a_check():
    from django.urls import path

    urlpatterns[:] = [path("leaky/", _undeclared_view, name="leaky")]
    with override_settings(ROOT_URLCONF=__name__):
        found = [r for r in walk(__name__) if declared_role(r.callback) is None]
    assert [r.name for r in found] == ["leaky"]
