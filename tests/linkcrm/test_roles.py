"""Roles are ranked groups; the first admin is created once with a generated password."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from linkcrm.choices import Role
from linkcrm.permissions import has_role, user_role
from linkcrm.services import first_admin_ensure, user_set_role

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_roles_are_ranked(cast):
    assert user_role(cast["outsider"]) is None
    assert has_role(cast["alice"], Role.OUTREACH) and not has_role(cast["alice"], Role.MANAGER)
    assert has_role(cast["manager"], Role.OUTREACH) and not has_role(cast["manager"], Role.ADMIN)
    assert has_role(cast["admin"], Role.MANAGER) and has_role(cast["admin"], Role.ADMIN)


def test_inactive_users_have_no_role(alice):
    alice.is_active = False
    alice.save()
    assert user_role(User.objects.get(pk=alice.pk)) is None


def test_setting_a_role_replaces_the_previous_one_and_grants_admin_access_only_to_admins(alice):
    user_set_role(user=alice, role=Role.ADMIN)
    alice = User.objects.get(pk=alice.pk)
    assert (user_role(alice), alice.is_staff, alice.is_superuser) == (Role.ADMIN, True, True)
    user_set_role(user=alice, role=Role.OUTREACH)
    alice = User.objects.get(pk=alice.pk)
    assert list(alice.groups.values_list("name", flat=True)) == ["outreach"]
    assert (user_role(alice), alice.is_staff, alice.is_superuser) == (Role.OUTREACH, False, False)


def test_the_first_admin_is_created_once_with_a_generated_password():
    user, password = first_admin_ensure()
    assert password and len(password) >= 16
    assert user.check_password(password)
    assert user_role(user) == Role.ADMIN
    again, second_password = first_admin_ensure()
    assert (again.pk, second_password) == (user.pk, None)
    other_user, other_password = User.objects.create_user("x"), None
    assert other_user.pk != user.pk and other_password is None


def test_two_fresh_databases_get_different_first_passwords():
    _, first = first_admin_ensure()
    User.objects.all().delete()
    _, second = first_admin_ensure()
    assert first != second


def test_bootstrap_prints_the_password_only_the_first_time():
    out = io.StringIO()
    call_command("bootstrap", stdout=out)
    text = out.getvalue()
    password = text.split("password: ")[1].split()[0]
    assert User.objects.get(username="admin").check_password(password)
    out = io.StringIO()
    call_command("bootstrap", stdout=out)
    assert "password:" not in out.getvalue()
    assert password not in out.getvalue()


def test_admin_manages_users_and_the_new_password_is_shown_once(admin_user, client_for):
    client = client_for(admin_user)
    response = client.post(
        "/users/", {"username": "carol", "email": "carol@example.test", "role": "manager"}, follow=True
    )
    assert response.status_code == 200
    carol = User.objects.get(username="carol")
    assert user_role(carol) == Role.MANAGER
    shown = response.context["created_password"]
    assert carol.check_password(shown)
    assert shown not in client.get("/users/").content.decode()


def test_admins_cannot_lock_themselves_out(admin_user, client_for):
    client = client_for(admin_user)
    client.post(f"/users/{admin_user.pk}/", {"role": "outreach", "is_active": "on"})
    assert user_role(User.objects.get(pk=admin_user.pk)) == Role.ADMIN


def test_admin_demotes_and_deactivates_another_user(admin_user, manager, client_for):
    client_for(admin_user).post(f"/users/{manager.pk}/", {"role": "outreach"})
    manager = User.objects.get(pk=manager.pk)
    assert manager.is_active is False
    assert list(manager.groups.values_list("name", flat=True)) == ["outreach"]


def test_the_admin_site_answers_403_to_managers_and_opens_for_admins(manager, admin_user, client_for):
    assert client_for(manager).get("/admin/").status_code == 403
    assert client_for(admin_user).get("/admin/").status_code == 200
    assert client_for(admin_user).get("/admin/auth/user/").status_code == 200
