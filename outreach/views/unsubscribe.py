"""The public one-click unsubscribe page (RFC 8058).

GET shows a confirmation button (link scanners and previews fetch URLs; a GET must change
nothing). POST unsubscribes: mail providers POST ``List-Unsubscribe=One-Click`` without a
session or a CSRF token, so the view is CSRF-exempt; the signed token is the credential.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from linkcrm.permissions import public
from outreach.services.unsubscribe import UnsubscribeLinkInvalid, unsubscribe_apply, unsubscribe_target


@public
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        if request.method == "POST":
            target = unsubscribe_apply(token=token)
            return render(request, "outreach/unsubscribe.html", {"target": target, "done": True})
        target = unsubscribe_target(token)
    except UnsubscribeLinkInvalid as exc:
        return render(request, "outreach/unsubscribe.html", {"error": str(exc)}, status=404)
    return render(request, "outreach/unsubscribe.html", {"target": target, "done": False})


urlpatterns = [
    path("unsubscribe/<str:token>/", unsubscribe, name="unsubscribe"),
]
