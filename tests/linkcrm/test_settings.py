"""Settings come from the environment through strict parsers; production settings pass --deploy."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from linkcrm.lib.env import EnvError, env_bool, env_database_url, env_int, env_list
from linkcrm.localstack.config import BASE_DIR


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    dropped = {
        "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "LINKCRM_HTTPS", "DJANGO_ALLOW_ASYNC_UNSAFE",
        "LINKCRM_ENCRYPTION_KEY",
    }
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), *args],
        env={**clean, **env}, capture_output=True, text=True, cwd=BASE_DIR, timeout=120, check=False,
    )


def test_it_parses_booleans_strictly():
    assert env_bool("X", False, environ={"X": "yes"}) is True
    assert env_bool("X", True, environ={"X": "off"}) is False
    assert env_bool("X", True, environ={}) is True
    with pytest.raises(EnvError, match="X"):
        env_bool("X", False, environ={"X": "maybe"})


def test_it_parses_numbers_and_lists_strictly():
    assert env_int("N", 5, environ={"N": "7"}) == 7
    with pytest.raises(EnvError, match="N='seven'"):
        env_int("N", 5, environ={"N": "seven"})
    with pytest.raises(EnvError, match="at least 0"):
        env_int("N", 5, minimum=0, environ={"N": "-1"})
    assert env_list("L", [], environ={"L": "a.test, b.test"}) == ["a.test", "b.test"]
    with pytest.raises(EnvError, match="empty item"):
        env_list("L", [], environ={"L": "a.test,,b.test"})


def test_it_parses_database_urls_and_hides_passwords_in_errors():
    url = env_database_url("DATABASE_URL", "", environ={"DATABASE_URL": "postgres://u:p%40ss@db.internal:6543/crm"})
    assert (url.user, url.password, url.host, url.port, url.name) == ("u", "p@ss", "db.internal", 6543, "crm")
    with pytest.raises(EnvError) as refused:
        env_database_url("DATABASE_URL", "", environ={"DATABASE_URL": "mysql://u:secret@h/db"})
    assert "secret" not in str(refused.value)
    with pytest.raises(EnvError, match="names no database"):
        env_database_url("DATABASE_URL", "", environ={"DATABASE_URL": "postgres://u@h:5432/"})


def test_a_bad_value_stops_start_up_naming_the_variable():
    result = _manage("check", env={"DEBUG": "true", "CONN_MAX_AGE": "forever"})
    assert result.returncode != 0
    assert "CONN_MAX_AGE" in result.stderr


def test_production_needs_a_secret_key():
    result = _manage("check", env={"DEBUG": "false"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_deploy_check_is_clean_with_production_settings():
    env = {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "crm.example.com",
        "LINKCRM_HTTPS": "true",
        "LINKCRM_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    }
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def _production_env(**extra: str) -> dict[str, str]:
    base = {"DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "crm.example.com"}
    return {**base, **extra}


def test_production_needs_an_encryption_key():
    result = _manage("check", env=_production_env())
    assert result.returncode != 0
    assert "LINKCRM_ENCRYPTION_KEY must be set" in result.stderr


def test_an_invalid_encryption_key_stops_start_up_without_showing_it():
    good = Fernet.generate_key().decode()
    result = _manage("check", env=_production_env(LINKCRM_ENCRYPTION_KEY=f"{good},not-a-real-key-value"))
    assert result.returncode != 0
    assert "LINKCRM_ENCRYPTION_KEY: key #2 is not a Fernet key" in result.stderr
    assert "not-a-real-key-value" not in result.stderr


def test_debug_without_an_encryption_key_uses_a_development_key_with_a_warning():
    code = "from outreach.secrets import decrypt_secret as d, encrypt_secret as e; print(d(e('round-trip')))"
    result = _manage("shell", "-c", code, env={"DEBUG": "true"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "round-trip"
    assert "LINKCRM_ENCRYPTION_KEY is not set" in result.stderr


def test_development_settings_fail_the_deploy_check():
    """The check has teeth: DEBUG on is reported (so the clean result above means something)."""
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env={"DEBUG": "true"})
    assert result.returncode != 0
    assert "DEBUG" in result.stdout + result.stderr
