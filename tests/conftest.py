"""The shared cast and helpers for every test.

The cast: ``admin``, ``manager``, two outreach users (``alice`` and ``bob``) and an
``outsider`` who can log in but has no role. Tests run on the real PostgreSQL of the test
stack that ``make test`` starts (see linkcrm/localstack).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import AbstractUser
from django.test import Client

from linkcrm.choices import Role
from linkcrm.localstack.config import BASE_DIR, StackConfig
from linkcrm.services import user_create

SAMPLES_DIR = BASE_DIR.parent / "shared" / "samples"
PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def _plain_static_storage(settings) -> None:
    # The manifest storage needs collectstatic; tests serve static files from the apps.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = True
    # Hashing each cast member's password with PBKDF2 costs ~0.4 s a user; tests need no strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def samples_dir() -> Path:
    """The real exports and emails in ../shared/samples; skips (saying why) when absent."""
    if not SAMPLES_DIR.is_dir():
        pytest.skip(f"real sample files not found at {SAMPLES_DIR} (they live beside the repo, not in it)")
    return SAMPLES_DIR


@pytest.fixture
def stack() -> StackConfig:
    """Ports and paths of the running test stack."""
    return StackConfig.from_env()


@pytest.fixture
def make_user(db) -> Callable[..., AbstractUser]:
    def make(username: str, role: Role | None, **extra: str) -> AbstractUser:
        user, _ = user_create(
            username=username, role=role, email=f"{username}@example.test", password=PASSWORD, **extra
        )
        return user

    return make


@pytest.fixture
def admin_user(make_user) -> AbstractUser:
    return make_user("admin", Role.ADMIN)


@pytest.fixture
def manager(make_user) -> AbstractUser:
    return make_user("manager", Role.MANAGER)


@pytest.fixture
def alice(make_user) -> AbstractUser:
    return make_user("alice", Role.OUTREACH)


@pytest.fixture
def bob(make_user) -> AbstractUser:
    return make_user("bob", Role.OUTREACH)


@pytest.fixture
def outsider(make_user) -> AbstractUser:
    return make_user("outsider", None)


@pytest.fixture
def cast(admin_user, manager, alice, bob, outsider) -> dict[str, AbstractUser]:
    return {"admin": admin_user, "manager": manager, "alice": alice, "bob": bob, "outsider": outsider}


@pytest.fixture
def client_for() -> Callable[[AbstractUser | None], Client]:
    """A test client logged in as the given user (or anonymous for None)."""

    def make(user: AbstractUser | None) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make
