"""Cell parsers shared by every format, and ``Memo``: the cache that makes them cheap.

Each parser takes the raw cell and the field name and returns the normalised value or raises
``RowError(field, why)``. Exports repeat the same few values millions of times ("true", a
date, an authority score, a host), so converters look cells up in a ``Memo`` per field: a
dict whose misses call the parser once. A hit costs one C-level dict lookup.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Generic, TypeVar
from urllib.parse import urlsplit

from audit.choices import LinkType
from audit.importers.base import RowError
from linkcrm.lib.domains import DomainError, normalize_host

T = TypeVar("T")

_TRUE = frozenset({"true", "yes", "y", "1", "t", "on", "x", "+"})
_FALSE = frozenset({"false", "no", "n", "0", "f", "off", "-"})
_MEMO_LIMIT = 1 << 16
_EPOCH_MIN_DIGITS, _EPOCH_MAX_DIGITS = 9, 13
_EARLIEST, _LATEST = date(1990, 1, 1), date(2100, 1, 1)


class Memo(dict, Generic[T]):
    """``memo[cell]`` → parsed value; a miss parses once (raising RowError for bad cells).

    Capped: past ``limit`` distinct cells it starts again, so a column of unique values
    costs a parse per row but never unbounded memory.
    """

    __slots__ = ("parse", "field", "limit")

    def __init__(self, parse: Callable[[str, str], T], field: str, limit: int = _MEMO_LIMIT) -> None:
        super().__init__()
        self.parse = parse
        self.field = field
        self.limit = limit

    def __missing__(self, key: str) -> T:
        value = self.parse(key, self.field)
        if len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value


def _shown(text: str) -> str:
    """A cell as quoted in an error message, cut short."""
    return repr(text if len(text) <= 80 else text[:77] + "...")


# -- flags and numbers ----------------------------------------------------------------------
def parse_flag(text: str, field: str) -> bool:
    """true/false, yes/no, 1/0, y/n, t/f, on/off, x/- (case-insensitive). Empty is False."""
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE or not lowered:
        return False
    raise RowError(field, f"expected true or false, got {_shown(text)}")


def parse_optional_flag(text: str, field: str) -> bool | None:
    """Like parse_flag, but an empty cell means "not stated" (None)."""
    return None if not text.strip() else parse_flag(text, field)


def parse_count(text: str, field: str) -> int | None:
    """A non-negative whole number; empty is None."""
    stripped = text.strip()
    if not stripped:
        return None
    if not stripped.isdigit() or not stripped.isascii():
        raise RowError(field, f"expected a whole number, got {_shown(text)}")
    value = int(stripped)
    if value > 2_147_483_647:
        raise RowError(field, f"{stripped} is too large")
    return value


def parse_authority(text: str, field: str) -> int | None:
    """A 0-100 score; decimals ("4.7", "0,9") are rounded half up. Empty is None."""
    stripped = text.strip().replace(",", ".")
    if not stripped:
        return None
    try:
        value = float(stripped)
    except ValueError:
        raise RowError(field, f"expected a score from 0 to 100, got {_shown(text)}") from None
    if not 0 <= value <= 100:
        raise RowError(field, f"expected a score from 0 to 100, got {_shown(text)}")
    return int(value + 0.5)


def parse_http_status(text: str, field: str) -> int | None:
    """An HTTP status code 100-599; empty (and Ahrefs' 0 for "not crawled") is None."""
    value = parse_count(text, field)
    if not value:
        return None
    if not 100 <= value <= 599:
        raise RowError(field, f"{value} is not an HTTP status code")
    return value


# -- dates ----------------------------------------------------------------------------------
def parse_date(text: str, field: str) -> str | None:
    """ISO ``YYYY-MM-DD`` from ISO dates, ``YYYY-MM-DD HH:MM:SS`` or Unix epoch; empty is None.

    Day-first and month-first forms (03/04/2024) are refused: they cannot be told apart.
    """
    stripped = text.strip()
    if not stripped:
        return None
    if stripped.isdigit() and stripped.isascii():
        return _epoch_date(stripped, field)
    day = _iso_date(stripped[:10]) if len(stripped) == 10 or stripped[10:11] in (" ", "T") else None
    if day is None or (len(stripped) > 10 and not _looks_like_time(stripped[11:])):
        if "/" in stripped or "." in stripped[:6]:
            why = "use YYYY-MM-DD (day/month order is unknown)"
            raise RowError(field, f"ambiguous date {_shown(text)}: {why}")
        raise RowError(field, f"unrecognised date {_shown(text)}: use YYYY-MM-DD")
    return _in_range(day, text, field)


def _iso_date(text: str) -> date | None:
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _looks_like_time(text: str) -> bool:
    """``HH:MM[:SS[.fff]][Z|±HH:MM]`` after the date."""
    return len(text) >= 5 and text[:2].isdigit() and text[2] == ":" and text[3:5].isdigit()


def _epoch_date(digits: str, field: str) -> str:
    if not _EPOCH_MIN_DIGITS <= len(digits) <= _EPOCH_MAX_DIGITS:
        raise RowError(field, f"unrecognised date {_shown(digits)}: use YYYY-MM-DD or Unix seconds")
    seconds = int(digits) / (1000 if len(digits) > 11 else 1)
    return _in_range(datetime.fromtimestamp(seconds, tz=UTC).date(), digits, field)


def _in_range(day: date, text: str, field: str) -> str:
    if not _EARLIEST <= day < _LATEST:
        raise RowError(field, f"date {_shown(text)} is out of range")
    return day.isoformat()


# -- URLs, hosts, IPs, countries ------------------------------------------------------------
def parse_host(text: str, field: str) -> str:
    """A host name or IP as ``normalize_host`` returns it (lower case, punycode, no www.)."""
    try:
        return normalize_host(text)
    except DomainError as exc:
        raise RowError(field, str(exc)) from None


def parse_domain(text: str, field: str) -> str:
    """A referring domain cell: a bare host, or a URL whose host is taken."""
    stripped = text.strip()
    if not stripped:
        raise RowError(field, "is empty")
    if "/" in stripped:
        return _url_host(stripped if "://" in stripped else "http://" + stripped.lstrip("/"), field)
    return parse_host(stripped, field)


def _authority_host(authority: str, field: str) -> str:
    """The host of ``user@host:port`` (Memo key: the part of a URL between ``//`` and ``/``)."""
    host = authority.partition("?")[0].partition("#")[0]
    if "@" in host or ":" in host or "[" in host:
        return _url_host("http://" + host, field)
    return parse_host(host, field)


def _url_host(url: str, field: str) -> str:
    try:
        hostname = urlsplit(url).hostname
    except ValueError as exc:
        raise RowError(field, f"invalid URL {_shown(url)}: {exc}") from None
    if not hostname:
        raise RowError(field, f"URL has no host: {_shown(url)}")
    return parse_host(hostname, field)


def parse_url(text: str, field: str) -> str:
    """An absolute http(s) URL with a valid host; surrounding space trimmed, scheme lower-cased."""
    stripped = text.strip()
    if not stripped:
        raise RowError(field, "is empty")
    scheme, sep, rest = stripped.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        raise RowError(field, f"not an http(s) URL: {_shown(text)}")
    _authority_host(rest.split("/", 1)[0], field)
    return scheme.lower() + "://" + rest


def clean_origin(origin: str, field: str) -> bool:
    """Validates ``scheme://authority``; True when the URL needs no rewriting by parse_url."""
    parse_url(origin, field)
    return origin.startswith(("https://", "http://")) and origin[-1] > " "


def url_checker(field: str) -> Callable[[str], str]:
    """A fast ``parse_url`` for columns of unique URLs (source pages).

    The ``scheme://host`` part repeats, so its validation is memoised; per row the check is
    one ``find``, one slice and one dict lookup.
    """
    origins: Memo[bool] = Memo(clean_origin, field)

    def check(text: str) -> str:
        slash = text.find("/", 8)
        if origins[text if slash < 0 else text[:slash]] and text[-1] > " ":
            return text
        return parse_url(text, field)

    return check


def parse_ip(text: str, field: str) -> str | None:
    """An IPv4 or IPv6 address in canonical form; empty is None."""
    stripped = text.strip()
    if not stripped:
        return None
    try:
        return str(ipaddress.ip_address(stripped))
    except ValueError:
        raise RowError(field, f"not an IP address: {_shown(text)}") from None


def parse_country(text: str, field: str) -> str:
    """ISO 3166-1 alpha-2 in lower case ("US" → "us"); empty stays empty."""
    stripped = text.strip()
    if not stripped:
        return ""
    if len(stripped) != 2 or not stripped.isascii() or not stripped.isalpha():
        raise RowError(field, f"expected a two-letter country code, got {_shown(text)}")
    return stripped.lower()


# -- link types -----------------------------------------------------------------------------
# Plain str values (not the enum members): rows are tuples of plain values for COPY.
TEXT, IMAGE, FORM = LinkType.TEXT.value, LinkType.IMAGE.value, LinkType.FORM.value
FRAME, REDIRECT, OTHER = LinkType.FRAME.value, LinkType.REDIRECT.value, LinkType.OTHER.value
_LINK_TYPES: dict[str, str] = {
    "text": TEXT, "a": TEXT, "href": TEXT, "link": TEXT, "textlink": TEXT, "": TEXT,
    "image": IMAGE, "img": IMAGE, "imagelink": IMAGE,
    "form": FORM,
    "frame": FRAME, "iframe": FRAME,
    "redirect": REDIRECT, "301": REDIRECT, "302": REDIRECT,
}


def parse_link_type(text: str, field: str) -> str:
    """A provider's link type word → LinkType value; other words are kept as "other"."""
    return _LINK_TYPES.get(text.strip().lower().replace(" ", ""), OTHER)


def timestamp_date(field: str) -> Callable[[str], str | None]:
    """``parse_date`` for columns of ``YYYY-MM-DD HH:MM:SS`` timestamps (Ahrefs).

    Timestamps are unique per row, so the memo is keyed on the date part only.
    """
    days: Memo[str | None] = Memo(parse_date, field)

    def parse(text: str) -> str | None:
        if len(text) == 19 and text[10] == " " and text[13] == ":" and text[16] == ":":
            return days[text[:10]]
        return parse_date(text, field)

    return parse


def memo(parse: Callable[[str, str], T], field: str) -> Callable[[str], T]:
    """``Memo(parse, field).__getitem__``: the bound C method converters call per cell."""
    return Memo(parse, field).__getitem__
