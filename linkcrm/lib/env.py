"""Strict readers for settings that come from the environment.

Every reader names the variable in its error, so a bad value stops start-up with a
message the operator can act on instead of a stack trace deep inside Django.
Kept free of Django imports: the local services runner uses it before Django starts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class EnvError(ValueError):
    """A variable is set to a value that cannot be used."""

    def __init__(self, name: str, value: str, why: str) -> None:
        super().__init__(f"environment variable {name}={value!r}: {why}")
        self.name = name


def _raw(name: str, environ: Mapping[str, str] | None) -> str | None:
    value = (environ if environ is not None else os.environ).get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(name: str, default: str | None = None, *, environ: Mapping[str, str] | None = None) -> str | None:
    value = _raw(name, environ)
    return default if value is None else value


def env_bool(name: str, default: bool, *, environ: Mapping[str, str] | None = None) -> bool:
    value = _raw(name, environ)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise EnvError(name, value, "expected one of true/false, yes/no, on/off, 1/0")


def env_int(
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    value = _raw(name, environ)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise EnvError(name, value, "expected a whole number") from None
    if minimum is not None and number < minimum:
        raise EnvError(name, value, f"must be at least {minimum}")
    if maximum is not None and number > maximum:
        raise EnvError(name, value, f"must be at most {maximum}")
    return number


def env_port(name: str, default: int, *, environ: Mapping[str, str] | None = None) -> int:
    return env_int(name, default, minimum=1, maximum=65535, environ=environ)


def env_list(name: str, default: list[str], *, environ: Mapping[str, str] | None = None) -> list[str]:
    value = _raw(name, environ)
    if value is None:
        return list(default)
    items = [item.strip() for item in value.split(",")]
    if any(not item for item in items):
        raise EnvError(name, value, "empty item in comma-separated list")
    return items


def env_choice(
    name: str, default: str, choices: tuple[str, ...], *, environ: Mapping[str, str] | None = None
) -> str:
    value = _raw(name, environ)
    if value is None:
        return default
    if value not in choices:
        raise EnvError(name, value, f"expected one of {', '.join(choices)}")
    return value


@dataclass(frozen=True)
class DatabaseUrl:
    """The parts of a postgres:// URL that Django's DATABASES entry needs."""

    name: str
    user: str
    password: str
    host: str
    port: int | None
    options: dict[str, str]

    def as_django(self, conn_max_age: int) -> dict[str, object]:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": self.name,
            "USER": self.user,
            "PASSWORD": self.password,
            "HOST": self.host,
            "PORT": str(self.port or ""),
            "CONN_MAX_AGE": conn_max_age,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": dict(self.options),
        }


def parse_database_url(name: str, value: str) -> DatabaseUrl:
    """Parse ``postgres://user:pass@host:port/db?sslmode=require`` strictly."""
    parts = urlsplit(value)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise EnvError(name, _redact(value), "only postgres:// or postgresql:// URLs are supported")
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise EnvError(name, _redact(value), "the URL names no database (postgres://user@host:port/DBNAME)")
    try:
        port = parts.port
    except ValueError:
        raise EnvError(name, _redact(value), "the port is not a number between 1 and 65535") from None
    return DatabaseUrl(
        name=database,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        host=unquote(parts.hostname or ""),
        port=port,
        options=dict(parse_qsl(parts.query)),
    )


def env_database_url(name: str, default: str, *, environ: Mapping[str, str] | None = None) -> DatabaseUrl:
    value = _raw(name, environ)
    return parse_database_url(name, value if value is not None else default)


def _redact(url: str) -> str:
    """Hide a password before a URL goes into an error message or a log."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url
