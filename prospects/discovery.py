"""Find contact addresses on a prospect's site. Fetching and parsing only: no database.

``discover(domain, client)`` visits the home page, the pages it links to that look like
contact/about/write-for-us pages, then the usual paths, up to ``max_pages``; every fetch
goes through ``linkcrm.lib.safehttp`` (robots.txt honoured). ``extract_emails(html, url)``
reads one page: ``mailto:`` links (with the link text as a name), plain addresses,
"name [at] domain [dot] com" spellings, HTML entities and Cloudflare's email protection.
Asset names that look like addresses ("logo@2x.png") and placeholder domains are dropped.
The service ``prospects.services.contacts.contacts_discover`` stores what is found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from linkcrm.lib.domains import DomainError, domain_of_url, registrable_domain, tld_of_host
from linkcrm.lib.safehttp import FetchError, SafeClient, SafeResponse

FALLBACK_PATHS = ("/contact", "/contact-us", "/about", "/about-us", "/write-for-us", "/contribute",
                  "/advertise", "/impressum")
_LINK_HINT = re.compile(
    r"contact|about|write[-_ ]?for[-_ ]?us|guest|contribut|submi|advertis|impressum|imprint|team|kontakt|"
    r"press|editor|staff|masthead",
    re.IGNORECASE,
)
_PARSED_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")



def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# --- what an address looks like ----------------------------------------------------------

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN = re.compile(rf"(?<![\w.%+-])([A-Za-z0-9][A-Za-z0-9._%+-]{{0,63}})@({_LABEL}(?:\.{_LABEL})+)")
_AT = r"\s*(?:\[\s*at\s*\]|\(\s*at\s*\)|\{\s*at\s*\}|<\s*at\s*>|\[\s*@\s*\]|\(\s*@\s*\))\s*"
_DOT = r"\s*(?:\[\s*dot\s*\]|\(\s*dot\s*\)|\{\s*dot\s*\}|<\s*dot\s*>)\s*"
# "jane [at] example [dot] com", "jane(at)example.com"
_LOCAL = r"(?<![\w.%+-])([A-Za-z0-9][\w.%+-]{0,63})"
_BRACKETED = re.compile(rf"{_LOCAL}{_AT}({_LABEL}(?:(?:{_DOT}|\.){_LABEL})+)", re.IGNORECASE)
# "jane at example dot com": only when the dots are spelled too ("met at example.com" is prose)
_SPELLED = re.compile(rf"{_LOCAL}\s+at\s+({_LABEL}(?:\s+dot\s+{_LABEL})+)\b", re.IGNORECASE)
_DOT_WORD = re.compile(rf"{_DOT}|\s+dot\s+", re.IGNORECASE)

_ASSET_SUFFIXES = _words(
    "png jpg jpeg gif svg webp ico bmp tif tiff avif heic css js mjs map json xml woff woff2 ttf otf eot "
    "mp3 mp4 webm mov avi pdf zip gz php html htm"
)
_PLACEHOLDER_DOMAINS = _words(
    "example.com example.org example.net example.edu domain.com yourdomain.com yoursite.com "
    "yourcompany.com company.com email.com test.com sentry.io wixpress.com sentry-next.wixpress.com"
)
_PLACEHOLDER_LOCALS = _words(
    "you your yourname youremail your-email your.email your.name name email username user "
    "firstname.lastname first.last"
)
_NO_REPLY = re.compile(r"^(?:no-?reply|do-?not-?reply|mailer-daemon|bounces?)(?:[._+-]|$)", re.IGNORECASE)

# Role from the local part, in order; the first matching group wins.
ROLE_WORDS: tuple[tuple[str, frozenset[str]], ...] = (
    ("Editor", _words("editor editors editorial edit redaktion news newsroom tips redaction")),
    ("Contributions", _words(
        "guest guestpost guestposts contribute contributor contributors submissions submit write writers "
        "writeforus pitch pitches blog content"
    )),
    ("Press", _words("press media pr publicity")),
    ("Marketing & partnerships", _words(
        "marketing partnerships partner partners sponsor sponsors sponsorship ads advertising advertise "
        "collab collabs affiliate affiliates outreach seo"
    )),
    ("General", _words(
        "info contact contacts hello hi hey enquiries enquiry inquiries inquiry office mail team general "
        "kontakt"
    )),
    ("Webmaster", _words("webmaster admin administrator postmaster hostmaster web it tech")),
    ("Support", _words("support help service customerservice care feedback")),
    ("Sales", _words("sales shop store orders billing accounts")),
    ("Careers", _words("jobs job careers career hr recruiting")),
    ("Legal", _words("privacy legal dpo gdpr abuse compliance security")),
)
PERSON = "Person"
# Who to write to first: editors and named people before info@, support and legal last.
_ROLE_RANK = {"Editor": 0, "Contributions": 1, PERSON: 2, "Marketing & partnerships": 3, "General": 4,
              "Press": 5, "": 6, "Webmaster": 7, "Sales": 8, "Support": 9, "Careers": 10, "Legal": 11}
_NAME = re.compile(r"^[A-ZÀ-Þ][\w'’.-]*(?: [A-ZÀ-Þ][\w'’.-]*){1,3}$")
_NOT_NAMES = _words(
    "email mail contact us write send here click me our team the editor info press support sales "
    "advertise office"
)


@dataclass(frozen=True)
class FoundEmail:
    """One address found: where, with a name and role guessed where we could."""

    email: str
    name: str
    role: str
    source_url: str
    on_domain: bool = True


@dataclass(frozen=True)
class PageVisit:
    """One page asked for: its status, or why it could not be read; how many addresses it held."""

    url: str
    status: int | None
    error: str = ""
    found: int = 0


@dataclass
class DiscoveryReport:
    """The pages visited and the addresses found, best first (see ``rank``)."""

    domain: str
    pages: list[PageVisit] = field(default_factory=list)
    emails: list[FoundEmail] = field(default_factory=list)


# --- one page ------------------------------------------------------------------------------


_BLOCK_TAGS = _words(
    "p div br li ul ol tr td th table h1 h2 h3 h4 h5 h6 section article header footer nav aside address "
    "blockquote dd dt dl form label option pre hr"
)


class _PageParser(HTMLParser):
    """Visible text (blocks separated, inline runs joined), links with their text, mailto and CF data."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.links: list[tuple[str, str]] = []  # (href, link text)
        self.cf_hashes: list[str] = []
        self._skip = 0  # inside <script>/<style> (JSON-LD is kept: it often holds "email")
        self._link: list[str] | None = None
        self._href = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if values.get("data-cfemail"):
            self.cf_hashes.append(values["data-cfemail"])
        if tag in ("script", "style", "template") and "ld+json" not in values.get("type", ""):
            self._skip += 1
        elif tag == "a":
            self._href, self._link = values.get("href", "").strip(), []
        elif tag in _BLOCK_TAGS:
            self.text.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template"):
            self._skip = max(0, self._skip - 1)
        elif tag == "a" and self._link is not None:
            self.links.append((self._href, " ".join("".join(self._link).split())))
            self._link = None
            self.text.append(" ")
        elif tag in _BLOCK_TAGS:
            self.text.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.text.append(data)
        if self._link is not None:
            self._link.append(data)


def extract_emails(html: str, page_url: str, *, sites: frozenset[str] = frozenset()) -> list[FoundEmail]:
    """Addresses on one page, deduplicated (lower-cased), in the order they appear.

    ``sites``: the site's registrable domains; addresses elsewhere get ``on_domain=False``.
    """
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    candidates: list[tuple[str, str]] = []  # (address, name from link text)
    for href, text in parser.links:
        if href.lower().startswith("mailto:"):
            candidates += [(address, _name_from_text(text)) for address in _mailto_addresses(href)]
        elif "/cdn-cgi/l/email-protection#" in href:
            candidates.append((_cloudflare_decode(href.rsplit("#", 1)[1]), ""))
    candidates += [(_cloudflare_decode(value), "") for value in parser.cf_hashes]
    candidates += [(address, "") for address in _addresses_in_text("".join(parser.text))]
    return _found(candidates, page_url, sites)


def _found(candidates: list[tuple[str, str]], page_url: str, sites: frozenset[str]) -> list[FoundEmail]:
    seen: dict[str, FoundEmail] = {}
    for raw, link_name in candidates:
        email = clean_email(raw)
        if email is None:
            continue
        if email in seen:
            if link_name and not seen[email].name:
                seen[email] = replace(seen[email], name=link_name, role=seen[email].role or PERSON)
            continue
        role, guessed_name = guess_role(email.split("@", 1)[0])
        if link_name and not role:
            role = PERSON  # <a href="mailto:jd@…">Jane Doe</a>: a person even if the address says little
        seen[email] = FoundEmail(email=email, name=link_name or guessed_name, role=role, source_url=page_url,
                                 on_domain=not sites or _domain_or_empty(email.split("@", 1)[1]) in sites)
    return list(seen.values())


def _addresses_in_text(text: str) -> list[str]:
    found = [f"{m.group(1)}@{m.group(2)}" for m in _PLAIN.finditer(text)]
    for pattern in (_BRACKETED, _SPELLED):
        for match in pattern.finditer(text):
            found.append(f"{match.group(1)}@{_DOT_WORD.sub('.', match.group(2))}")
    return found


def _mailto_addresses(href: str) -> list[str]:
    """``mailto:a@x.com,b@x.com?subject=…`` → both addresses (percent-decoded)."""
    target = unquote(href[len("mailto:"):].split("?", 1)[0])
    return [part.strip() for part in re.split(r"[,;]", target) if part.strip()]


def _cloudflare_decode(encoded: str) -> str:
    """Cloudflare's email protection: the first byte is an XOR key for the rest (hex)."""
    try:
        data = bytes.fromhex(encoded.strip())
    except ValueError:
        return ""
    if len(data) < 2:
        return ""
    return bytes(byte ^ data[0] for byte in data[1:]).decode("utf-8", "replace")


def clean_email(raw: str) -> str | None:
    """The lower-cased address when it is a plausible, contactable one; else None."""
    email = raw.strip().strip(".,;:<>()[]'\"").lower()
    if not email.isascii() or email.count("@") != 1 or len(email) > 254:
        return None
    local, domain = email.split("@")
    suffix = domain.rsplit(".", 1)[-1]
    if suffix in _ASSET_SUFFIXES or not _has_public_suffix(domain):
        return None  # logo@2x.png, sprite@3x.webp, name@localhost
    if domain in _PLACEHOLDER_DOMAINS or local in _PLACEHOLDER_LOCALS or _NO_REPLY.match(local):
        return None
    if registrable_domain(domain) in _PLACEHOLDER_DOMAINS:
        return None
    try:
        validate_email(email)
    except ValidationError:
        return None
    return email


def _has_public_suffix(domain: str) -> bool:
    try:
        return bool(tld_of_host(domain)) and registrable_domain(domain) != tld_of_host(domain)
    except DomainError:
        return False


def guess_role(local: str) -> tuple[str, str]:
    """(role, name) from the local part: ``editor`` → Editor; ``jane.doe`` → Person, "Jane Doe"."""
    lowered = local.lower()
    tokens = [token for token in re.split(r"[._+\-]", lowered) if token]
    words = {*tokens, re.sub(r"\d+$", "", lowered)}
    for role, vocabulary in ROLE_WORDS:
        if words & vocabulary:
            return role, ""
    if len(tokens) in (2, 3) and all(t.isalpha() and len(t) >= 2 for t in tokens):
        return PERSON, " ".join(t.capitalize() for t in tokens)
    return "", ""


def _name_from_text(text: str) -> str:
    """The link text when it reads like a person's name ("Jane Doe"), else ""."""
    cleaned = " ".join(text.split())
    if not _NAME.match(cleaned) or len(cleaned) > 60:
        return ""
    if {word.lower().strip(".") for word in cleaned.split()} & _NOT_NAMES:
        return ""
    return cleaned


def rank(emails: list[FoundEmail]) -> list[FoundEmail]:
    """Best first: the site's own domain, then by role (editors, named people …), then page order."""
    order = {found.email: index for index, found in enumerate(emails)}
    return sorted(emails, key=lambda f: (not f.on_domain, _ROLE_RANK.get(f.role, 6), order[f.email]))


# --- a whole site --------------------------------------------------------------------------


def discover(domain: str, client: SafeClient, *, max_pages: int = 8,
             start_url: str | None = None) -> DiscoveryReport:
    """Visit up to ``max_pages`` pages of ``domain`` and collect addresses, best first.

    ``start_url`` replaces the guessed home pages (https://domain/, https://www.domain/,
    http://domain/), e.g. for a test server. Fetch failures are recorded per page, never raised.
    """
    report = DiscoveryReport(domain=domain)
    home = _home_page(client, report, [start_url] if start_url else _home_guesses(domain))
    if home is None:
        return report
    # A home page that redirects to another domain (brand.co → brand.com) makes that one the site too.
    sites = frozenset({domain, _domain_or_empty(home.final_url)} - {""})
    visited = {_page_key(home.url), _page_key(home.final_url)}
    emails = _read_page(home, sites, report)
    for url in _pages_to_visit(home, sites):
        if len(report.pages) >= max_pages:
            break
        if _page_key(url) in visited:
            continue
        visited.add(_page_key(url))
        response = _fetch(client, url, report)
        if response is not None:
            visited.add(_page_key(response.final_url))
            emails += _read_page(response, sites, report)
    report.emails = rank(_merge(emails))
    return report


def _home_guesses(domain: str) -> list[str]:
    return [f"https://{domain}/", f"https://www.{domain}/", f"http://{domain}/"]


def _home_page(client: SafeClient, report: DiscoveryReport, guesses: list[str]) -> SafeResponse | None:
    for url in guesses:
        response = _fetch(client, url, report)
        if response is not None:
            return response
    return None


def _fetch(client: SafeClient, url: str, report: DiscoveryReport) -> SafeResponse | None:
    """The response, or None with the reason recorded as a page visit."""
    try:
        return client.get(url, if_too_large="truncate")
    except FetchError as exc:
        report.pages.append(PageVisit(url=url, status=None, error=exc.message))
        return None


def _read_page(response: SafeResponse, sites: frozenset[str], report: DiscoveryReport) -> list[FoundEmail]:
    found: list[FoundEmail] = []
    if response.ok and response.content_type in _PARSED_TYPES:
        found = extract_emails(response.text, response.final_url, sites=sites)
    error = "" if response.ok else f"HTTP {response.status_code}"
    report.pages.append(PageVisit(url=response.final_url, status=response.status_code, error=error,
                                  found=len(found)))
    return found


def _pages_to_visit(home: SafeResponse, sites: frozenset[str]) -> list[str]:
    """Links from the home page that look like contact pages (same site), then the usual paths."""
    base = home.final_url
    links: list[str] = []
    if home.ok and home.content_type in _PARSED_TYPES:
        parser = _PageParser()
        parser.feed(home.text)
        for href, text in parser.links:
            url = urldefrag(urljoin(base, href))[0]
            if (urlsplit(url).scheme in ("http", "https") and _LINK_HINT.search(f"{href} {text}")
                    and _domain_or_empty(url) in sites):
                links.append(url)
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(base))
    return links + [origin + path for path in FALLBACK_PATHS]


def _domain_or_empty(url_or_host: str) -> str:
    try:
        return domain_of_url(url_or_host)
    except DomainError:
        return ""


def _page_key(url: str) -> str:
    parts = urlsplit(urldefrag(url)[0])
    return f"{parts.netloc.lower()}{parts.path.rstrip('/') or '/'}?{parts.query}"


def _merge(emails: list[FoundEmail]) -> list[FoundEmail]:
    """One entry per address across pages: the first page seen, the first name known."""
    merged: dict[str, FoundEmail] = {}
    for found in emails:
        first = merged.get(found.email)
        if first is None:
            merged[found.email] = found
        elif found.name and not first.name:
            merged[found.email] = replace(first, name=found.name, role=first.role or found.role)
    return list(merged.values())
