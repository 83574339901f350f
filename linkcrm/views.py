"""Pages of the project itself: login, account, users. Thin: parse, call, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from rest_framework.authtoken.models import Token

from linkcrm.choices import Role
from linkcrm.forms import UserCreateForm, UserEditForm
from linkcrm.permissions import role_required, user_role
from linkcrm.services import user_create, user_set_active, user_set_role

User = get_user_model()


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True
    public = True


class LogoutView(auth_views.LogoutView):
    public = True


@role_required(Role.OUTREACH)
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)
        messages.success(request, "Your password was changed.")
        return redirect("account")
    has_token = Token.objects.filter(user=request.user).exists()
    new_token = request.session.pop("new_api_token", None)
    return render(
        request,
        "linkcrm/account.html",
        {"form": form, "has_token": has_token, "new_token": new_token, "role": user_role(request.user)},
    )


@role_required(Role.OUTREACH)
@require_POST
def account_token(request: HttpRequest) -> HttpResponse:
    """Create (or replace) the user's API token; shown once on the next page view."""
    Token.objects.filter(user=request.user).delete()
    if request.POST.get("action") != "revoke":
        token = Token.objects.create(user=request.user)
        request.session["new_api_token"] = token.key
        messages.success(request, "A new API token was created. Copy it now: it is shown only once.")
    else:
        messages.info(request, "Your API token was revoked.")
    return redirect("account")


@role_required(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def users(request: HttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST or None)
    created_password = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user, created_password = user_create(
            username=data["username"], email=data["email"], first_name=data["first_name"],
            last_name=data["last_name"], role=Role(data["role"]),
        )
        messages.success(request, f"User {user.username} created. Give them this password; it is shown once.")
        form = UserCreateForm()
    people = User.objects.order_by("username").prefetch_related(Prefetch("groups"))
    rows = [{"user": person, "role": user_role(person)} for person in people]
    return render(
        request, "linkcrm/users.html", {"form": form, "rows": rows, "created_password": created_password}
    )


@role_required(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(User, pk=pk)
    initial = {"role": user_role(person) or "", "is_active": person.is_active}
    form = UserEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        role_value = form.cleaned_data["role"]
        if person.pk == request.user.pk and (role_value != Role.ADMIN or not form.cleaned_data["is_active"]):
            messages.error(request, "You cannot remove your own admin role or deactivate yourself.")
            return redirect("user-edit", pk=person.pk)
        user_set_role(user=person, role=Role(role_value) if role_value else None)
        user_set_active(user=person, active=form.cleaned_data["is_active"])
        messages.success(request, f"{person.username} updated.")
        return redirect("users")
    return render(request, "linkcrm/user_edit.html", {"person": person, "form": form})


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)
