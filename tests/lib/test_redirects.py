"""safe_next: a form's way back, never an open redirect."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from linkcrm.lib.redirects import safe_next


@pytest.mark.parametrize(
    ("target", "secure", "expected"),
    [
        ("/prospects/3/", False, "/prospects/3/"),
        ("http://testserver/board/?stage=x", False, "http://testserver/board/?stage=x"),
        ("https://evil.example/", False, "/fallback/"),
        ("//evil.example/", False, "/fallback/"),
        ("javascript:alert(1)", False, "/fallback/"),
        ("http://testserver/board/", True, "/fallback/"),  # plain http from an https page
        ("", False, "/fallback/"),
    ],
)
def test_only_a_url_of_this_site_is_followed(target, secure, expected):
    request = RequestFactory().post("/form/", {"next": target}, secure=secure)
    assert safe_next(request, "/fallback/") == expected


def test_the_query_string_next_counts_when_the_form_has_none():
    request = RequestFactory().post("/form/?next=/prospects/3/", {})
    assert safe_next(request) == "/prospects/3/"
    assert safe_next(RequestFactory().post("/form/?next=https://evil.example/", {})) == ""
