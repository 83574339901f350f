"""The API: token and session auth, OpenAPI schema and a docs page with no CDN."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db


def test_token_auth_works_and_reports_the_role(alice):
    token = Token.objects.create(user=alice)
    response = Client().get("/api/me/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    assert response.json()["username"] == "alice"
    assert response.json()["role"] == "outreach"


def test_a_wrong_token_is_refused():
    assert Client().get("/api/me/", HTTP_AUTHORIZATION="Token nope").status_code in (401, 403)


def test_a_token_of_an_outsider_is_refused(outsider):
    token = Token.objects.create(user=outsider)
    assert Client().get("/api/me/", HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 403


def test_the_openapi_schema_describes_the_api(alice, client_for):
    response = client_for(alice).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/projects/" in schema["paths"]
    assert "/api/me/" in schema["paths"]


def test_the_docs_page_loads_its_assets_from_our_own_static_files(alice, client_for):
    html = client_for(alice).get("/api/docs/").content.decode()
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert urls, "the page references its assets"
    assert not [u for u in urls if u.startswith(("http:", "https:", "//"))]


def test_a_user_creates_and_revokes_their_token_and_sees_it_once(alice, client_for):
    client = client_for(alice)
    page = client.post("/account/token/", {"action": "create"}, follow=True).content.decode()
    key = Token.objects.get(user=alice).key
    assert key in page
    assert key not in client.get("/account/").content.decode()
    client.post("/account/token/", {"action": "revoke"})
    assert not Token.objects.filter(user=alice).exists()
