"""Where a form sends the browser back to: its ``next`` only when that stays on this site."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest, default: str = "") -> str:
    """The request's ``next`` (form field, then query string) when it is a URL of this site, else ``default``.

    Anything else (another host, a scheme-relative ``//host``, ``javascript:``, plain http on
    an https site) would turn the form into an open redirect.
    """
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default
