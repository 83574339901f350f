"""Google's disavow file: check one line by line, write one, compare two. No database here.

The rules (Search Console help, and ../shared/samples/README.md): one URL or ``domain:host``
per line, ``#`` starts a comment line, UTF-8 (or 7-bit ASCII), at most 100,000 lines and
2 MB, URLs at most 2,048 characters, and a subpath cannot be disavowed (``domain:`` takes a
host only). What a check reports, per line:

- **error** — Google would reject the file (or the line means nothing): not UTF-8, too big,
  too many lines, a URL over 2,048 characters, ``domain:`` with a path or a scheme, a line
  that is neither a URL nor ``domain:host``. ``disavow_check`` exits non-zero on any.
- **warning** — accepted by Google but probably a mistake: a public suffix (``domain:org.br``
  disavows every site under it), a large platform (``domain:youtube.com``), your own site,
  or another site tracked here (a competitor's).
- **note** — what we normalised: ``www.`` folded, punycode for international names, upper
  case ``Domain:``, duplicates dropped.

A comment line directly above a run of entries is their *reason* (a blank line ends it), so
a file's sections survive an import and come back in the export (the sample round-trips).
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

from audit.choices import DisavowKind
from linkcrm.lib.domains import DomainError, is_public_suffix, normalize_host, registrable_domain

MAX_LINES = 100_000
MAX_BYTES = 2 * 1024 * 1024
MAX_URL = 2_048
DOMAIN_PREFIX = "domain:"
# Platforms whose whole domain holds millions of other people's sites and pages: disavowing
# the domain throws all of them away. Disavow the user's subdomain or the URLs instead.
LARGE_PLATFORMS: frozenset[str] = frozenset({
    "youtube.com", "google.com", "blogspot.com", "blogger.com", "wordpress.com", "wordpress.org",
    "facebook.com", "twitter.com", "x.com", "instagram.com", "linkedin.com", "pinterest.com",
    "reddit.com", "medium.com", "tumblr.com", "wikipedia.org", "github.com", "github.io", "amazon.com",
    "apple.com", "microsoft.com", "yahoo.com", "quora.com", "weebly.com", "wix.com", "wixsite.com",
    "substack.com", "tiktok.com", "vimeo.com", "archive.org", "sites.google.com", "yelp.com",
})  # fmt: skip


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True)
class Issue:
    """Something to say about one line (0: the whole file)."""

    line: int
    severity: Severity
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        return f"{where}: {self.severity}: {self.message}"


@dataclass(frozen=True)
class DisavowLine:
    """One entry as it will be written: ``kind``, normalised ``value`` and the comment above it."""

    line: int
    kind: DisavowKind
    value: str
    reason: str = ""

    @property
    def text(self) -> str:
        return f"{DOMAIN_PREFIX}{self.value}" if self.kind == DisavowKind.DOMAIN else self.value

    @property
    def domain(self) -> str:
        """Registrable domain of the entry (what the gap and the review compare against)."""
        host = self.value if self.kind == DisavowKind.DOMAIN else (urlsplit(self.value).hostname or "")
        return registrable_domain(host)


@dataclass
class DisavowCheck:
    """What a file holds (entries, deduplicated and normalised) and what is wrong with it."""

    entries: list[DisavowLine] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    lines: int = 0
    size: int = 0

    def of(self, severity: Severity) -> list[Issue]:
        return [issue for issue in self.issues if issue.severity == severity]

    @property
    def errors(self) -> list[Issue]:
        return self.of(Severity.ERROR)

    @property
    def warnings(self) -> list[Issue]:
        return self.of(Severity.WARNING)

    @property
    def google_would_reject(self) -> bool:
        return bool(self.errors)


class DisavowRefused(ValueError):
    """An export that Google would not accept; the message says which limit and by how much."""


# --- checking ---------------------------------------------------------------------------------


@dataclass
class _Context:
    own: frozenset[str]
    tracked: frozenset[str]
    check: DisavowCheck
    seen: dict[tuple[str, str], int] = field(default_factory=dict)
    reason: str = ""


def parse_disavow(
    data: bytes, *, own_domains: Collection[str] = (), tracked_domains: Collection[str] = ()
) -> DisavowCheck:
    """Check a disavow file and return its entries with every problem found, line by line.

    ``own_domains``: registrable domains that are yours (warned about); ``tracked_domains``:
    other sites tracked in LinkCRM (competitors: warned about too).
    """
    check = DisavowCheck(size=len(data))
    context = _Context(frozenset(own_domains), frozenset(tracked_domains) - frozenset(own_domains), check)
    if len(data) > MAX_BYTES:
        _add(check, 0, Severity.ERROR, f"the file is {len(data):,} bytes; Google accepts at most 2 MB ({MAX_BYTES:,})")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    raw_lines = data.split(b"\n")
    if raw_lines and raw_lines[-1] == b"":
        raw_lines.pop()
    check.lines = len(raw_lines)
    if check.lines > MAX_LINES:
        _add(check, 0, Severity.ERROR, f"the file has {check.lines:,} lines; Google accepts at most {MAX_LINES:,}")
    for number, raw in enumerate(raw_lines, start=1):
        try:
            text = raw.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            _add(check, number, Severity.ERROR, f"not UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})")
            continue
        _check_line(context, number, text)
    return check


def _add(check: DisavowCheck, line: int, severity: Severity, message: str) -> None:
    check.issues.append(Issue(line, severity, message))


def _check_line(context: _Context, number: int, text: str) -> None:
    """One line: a blank, a comment (the reason of the entries below it) or an entry."""
    if not text:
        context.reason = ""
        return
    if text.startswith("#"):
        comment = text.lstrip("#").strip()
        if comment:
            context.reason = comment
        return
    if text[: len(DOMAIN_PREFIX)].lower() == DOMAIN_PREFIX:
        entry = _domain_entry(context.check, number, text)
    elif text.lower().startswith(("http://", "https://")):
        entry = _url_entry(context.check, number, text)
    else:
        _add(context.check, number, Severity.ERROR,
             f"{_short(text)!r} is neither a URL (http:// or https://) nor a domain:host line")  # fmt: skip
        return
    if entry is not None:
        _keep(context, entry)


def _domain_entry(check: DisavowCheck, number: int, text: str) -> DisavowLine | None:
    given = text[len(DOMAIN_PREFIX) :].strip()
    if not text.startswith(DOMAIN_PREFIX):
        _add(check, number, Severity.NOTE, f"{text[:len(DOMAIN_PREFIX)]!r} written as {DOMAIN_PREFIX!r}")
    problem = _domain_problem(given)
    if problem:
        _add(check, number, Severity.ERROR, problem)
        return None
    try:
        host = normalize_host(given)
    except DomainError as exc:
        _add(check, number, Severity.ERROR, str(exc))
        return None
    if given.lower().rstrip(".").startswith("www.") and not host.startswith("www."):
        _add(check, number, Severity.NOTE, f"www. folded: domain:{host} covers www.{host} too")
    if not given.isascii():
        _add(check, number, Severity.NOTE, f"international name written in punycode: domain:{host}")
    return DisavowLine(number, DisavowKind.DOMAIN, host)


def _domain_problem(given: str) -> str:
    """Why a ``domain:`` value can never be valid, or empty."""
    if not given:
        return "domain: without a host name"
    if "://" in given:
        host = urlsplit(given).hostname or ""
        return f"domain: takes a host name, not a URL ({_short(given)!r}): write domain:{host}"
    if "/" in given or "?" in given:
        return f"a subpath cannot be disavowed ({_short(given)!r}): disavow the whole domain, or each page's URL"
    if any(ch.isspace() for ch in given):
        return f"text after the host name ({_short(given)!r}): comments go on their own line, starting with #"
    return ""


def _url_entry(check: DisavowCheck, number: int, text: str) -> DisavowLine | None:
    if len(text) > MAX_URL:
        _add(check, number, Severity.ERROR, f"the URL is {len(text):,} characters; Google accepts at most {MAX_URL:,}")
        return None
    if any(ch.isspace() for ch in text):
        _add(check, number, Severity.ERROR, "a URL cannot contain spaces (comments go on their own line)")
        return None
    try:
        parts = urlsplit(text)
        host = normalize_host(parts.hostname or "")
        port = parts.port
    except (ValueError, DomainError) as exc:
        _add(check, number, Severity.ERROR, f"not a valid URL: {exc}")
        return None
    if (parts.hostname or "").lower().startswith("www.") and not host.startswith("www."):
        host = "www." + host  # a page's own host: keep its www. (normalize_host folds it)
    netloc = host if port is None else f"{host}:{port}"
    url = urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))
    if not (parts.hostname or "").isascii():
        _add(check, number, Severity.NOTE, f"international host written in punycode: {host}")
    return DisavowLine(number, DisavowKind.URL, url)


def _keep(context: _Context, entry: DisavowLine) -> None:
    """Warn about risky entries, drop duplicates, and keep the rest with the current reason."""
    check = context.check
    key = (entry.kind, entry.value)
    if key in context.seen:
        _add(check, entry.line, Severity.NOTE, f"duplicate of line {context.seen[key]}: dropped")
        return
    context.seen[key] = entry.line
    for message in _risks(context, entry):
        _add(check, entry.line, Severity.WARNING, message)
    check.entries.append(DisavowLine(entry.line, entry.kind, entry.value, context.reason))


def _risks(context: _Context, entry: DisavowLine) -> list[str]:
    risks = []
    host = entry.value if entry.kind == DisavowKind.DOMAIN else (urlsplit(entry.value).hostname or "")
    if entry.kind == DisavowKind.DOMAIN and is_public_suffix(host):
        risks.append(f"{host} is a public suffix: this disavows every site registered under it")
        return risks
    domain = registrable_domain(host)
    if entry.kind == DisavowKind.DOMAIN and (host in LARGE_PLATFORMS or domain in LARGE_PLATFORMS and host == domain):
        risks.append(f"{host} is a large platform shared by many sites: disavow the URLs or the user's subdomain")
    if domain in context.own:
        risks.append(f"{domain} is your own site")
    elif domain in context.tracked:
        risks.append(f"{domain} is a site tracked in LinkCRM (a competitor's?)")
    return risks


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- writing ----------------------------------------------------------------------------------


def render_disavow(
    entries: Sequence[DisavowLine], *, site_domain: str, exported_at: datetime, version: int | None = None
) -> str:
    """Google's format: a dated header comment, entries without a reason, then one section per
    reason (its comment above its entries). Raises DisavowRefused past Google's limits."""
    for entry in entries:
        if entry.kind == DisavowKind.URL and len(entry.value) > MAX_URL:
            raise DisavowRefused(
                f"{_short(entry.value)} is {len(entry.value):,} characters; Google accepts URLs up to {MAX_URL:,}"
            )
    label = f" (version {version})" if version else ""
    out = [f"# Disavow file for {site_domain}{label}", f"# Exported by LinkCRM on {exported_at:%Y-%m-%d %H:%M} UTC",
           f"# {len(entries)} entries", ""]  # fmt: skip
    sections: dict[str, list[DisavowLine]] = {}
    for entry in entries:
        sections.setdefault(" ".join(entry.reason.split()), []).append(entry)
    for reason, members in sorted(sections.items(), key=lambda item: item[0] != ""):
        if reason:
            out.append(f"# {reason}")
        out.extend(member.text for member in members)
        out.append("")
    text = "\n".join(out)
    _check_size(text, len(out))
    return text


def _check_size(text: str, lines: int) -> None:
    size = len(text.encode("utf-8"))
    if lines > MAX_LINES:
        raise DisavowRefused(f"the file would have {lines:,} lines; Google accepts at most {MAX_LINES:,}")
    if size > MAX_BYTES:
        raise DisavowRefused(f"the file would be {size:,} bytes; Google accepts at most 2 MB ({MAX_BYTES:,})")


# --- comparing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DisavowDiff:
    """Entries only in the newer file, only in the older one, and a unified diff of the text."""

    added: list[str]
    removed: list[str]
    unified: list[str]


def diff_disavow(old: str, new: str, *, old_label: str = "old", new_label: str = "new") -> DisavowDiff:
    """Compare two disavow files by their entries (comments and order aside) and as text."""
    old_entries = [entry.text for entry in parse_disavow(old.encode("utf-8")).entries]
    new_entries = [entry.text for entry in parse_disavow(new.encode("utf-8")).entries]
    old_set, new_set = set(old_entries), set(new_entries)
    unified = list(difflib.unified_diff(old.splitlines(), new.splitlines(), old_label, new_label, lineterm=""))
    return DisavowDiff(
        added=[text for text in new_entries if text not in old_set],
        removed=[text for text in old_entries if text not in new_set],
        unified=unified,
    )
