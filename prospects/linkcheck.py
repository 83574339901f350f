"""Is our link still on their page? Fetching and parsing only: no database.

``check_page(url, targets, client)`` fetches a linking page through ``linkcrm.lib.safehttp``,
parses it with the standard library's HTML tokenizer (``html.parser``: comments, scripts and
entities are handled the way a browser tokenizes them) and looks for ``<a href>`` pointing at
one of the project's target pages. It returns a ``CheckResult`` with one outcome:

- ``ACTIVE``: the page answered 2xx and links to a target.
- ``LOST``: the page answered 2xx (an HTML page we read whole) without such a link.
- ``BROKEN``: the page answered 4xx/5xx (429 excepted), or its host name does not resolve.
- ``UNDEFINED``: we could not tell: robots.txt or the SSRF guard refused, a timeout, a
  connection error, too many redirects, a 429, or a page cut at the size cap without the link.
  Never counted as a loss.

``CHANGED`` is not decided here: the service compares anchor and rel with the previous live check.

URLs are compared by ``url_key``: scheme ignored (http and https of one page are the same
page), host lower-cased with IDNs in punycode and ``www.`` folded, default ports dropped,
empty path = ``/``, a trailing slash dropped, fragment dropped, query kept. Relative hrefs
are resolved against the page's ``<base href>`` (else the page's final URL).
``resolve_targets`` follows each target page's own redirects once, so a link to the old or to
the new address of a moved target both count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from linkcrm.lib.domains import DomainError, normalize_host, registrable_domain
from linkcrm.lib.safehttp import FetchError, SafeClient, Timeout
from prospects.choices import LinkStatus

# rel tokens that matter for a link's value; others (noopener, external…) are ignored.
REL_FLAGS = ("nofollow", "sponsored", "ugc")
_HTML_TYPES = ("text/html", "application/xhtml+xml", "")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# A target page is resolved with a GET capped this small: only its final URL matters.
_TARGET_PROBE_BYTES = 16 * 1024


LOSS_STATUSES = frozenset({LinkStatus.LOST, LinkStatus.BROKEN})
LIVE_STATUSES = frozenset({LinkStatus.ACTIVE, LinkStatus.CHANGED})


# --- URL keys ----------------------------------------------------------------------------------


def url_key(url: str) -> str | None:
    """The comparable form of an absolute http(s) URL, or None when it is not one."""
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            return None
        host = normalize_host(parts.hostname)
        port = parts.port
        if ":" in host:
            host = f"[{host}]"  # IPv6: keep the port separable
    except (ValueError, DomainError):
        return None
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = parts.path or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    return f"{netloc}{path}" + (f"?{parts.query}" if parts.query else "")


def domain_of_key(key: str) -> str:
    """The registrable domain of a ``url_key``."""
    netloc = key.split("/", 1)[0]
    host = netloc[1:].split("]", 1)[0] if netloc.startswith("[") else netloc.split(":", 1)[0]
    return registrable_domain(host)


@dataclass(frozen=True)
class TargetSet:
    """What counts as a link to us: these URL keys, or, with no target page, any page of ``domain``."""

    keys: frozenset[str] = frozenset()
    domain: str = ""

    def matches(self, url: str) -> bool:
        key = url_key(url)
        if key is None:
            return False
        if self.keys:
            return key in self.keys
        try:
            return bool(self.domain) and domain_of_key(key) == self.domain
        except DomainError:
            return False


def resolve_targets(urls: Iterable[str], *, client: SafeClient, site_domain: str = "") -> TargetSet:
    """Each target page's key plus the key of where its redirects end (one fetch per page).

    A target that cannot be fetched keeps its own key only: our site being down must not make
    every link look lost. With no target pages, any link to ``site_domain`` counts.
    """
    keys: set[str] = set()
    for url in dict.fromkeys(urls):
        key = url_key(url)
        if key is None:
            continue
        keys.add(key)
        try:
            response = client.get(url, max_bytes=_TARGET_PROBE_BYTES, if_too_large="truncate")
        except FetchError:
            continue
        final = url_key(response.final_url)
        if final is not None and response.status_code < 400:
            keys.add(final)
    return TargetSet(keys=frozenset(keys), domain=site_domain)


# --- parsing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FoundLink:
    """One ``<a href>`` of the page, absolute, with its text (or image alt) and rel tokens."""

    href: str
    anchor: str
    rel: tuple[str, ...] = ()

    @property
    def flags(self) -> tuple[str, ...]:
        """The rel tokens that change the link's value, sorted: ``("nofollow", "ugc")``."""
        return tuple(flag for flag in REL_FLAGS if flag in self.rel)

    @property
    def follow(self) -> bool:
        return not self.flags


@dataclass
class ParsedPage:
    """What the checker needs from one HTML page."""

    links: list[FoundLink] = field(default_factory=list)
    base_href: str = ""
    robots: list[str] = field(default_factory=list)
    canonical: str = ""

    @property
    def noindex(self) -> bool:
        return any(_says_noindex(value) for value in self.robots)


class _PageParser(HTMLParser):
    """Collects links, ``<base href>``, meta robots and the canonical link in one pass."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.raw: list[tuple[str, list[str], tuple[str, ...]]] = []  # href, text parts, rel
        self.base = ""
        self.robots: list[str] = []
        self.canonical = ""
        self._open: tuple[str, list[str], tuple[str, ...]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: (value or "") for name, value in attrs}
        if tag == "a":
            self._close()  # an <a> inside an open <a> closes it first, as browsers do
            if "href" in values:
                rel = tuple(values.get("rel", "").lower().split())
                self._open = (values["href"].strip(), [], rel)
        elif tag == "img" and self._open is not None:
            self._open[1].append(values.get("alt", ""))
        elif tag == "base" and not self.base and values.get("href"):
            self.base = values["href"].strip()
        elif tag == "meta" and values.get("name", "").lower() in ("robots", "googlebot"):
            self.robots.append(values.get("content", ""))
        elif tag == "link" and "canonical" in values.get("rel", "").lower().split() and not self.canonical:
            self.canonical = values.get("href", "").strip()

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._close()

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open[1].append(data)

    def _close(self) -> None:
        if self._open is not None:
            self.raw.append(self._open)
            self._open = None

    def close(self) -> None:
        super().close()
        self._close()  # an <a> left open at the end of the document still counts


def parse_page(html: str, page_url: str) -> ParsedPage:
    """Links of ``html`` made absolute against its ``<base href>`` (itself relative to ``page_url``)."""
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    base = urljoin(page_url, parser.base) if parser.base else page_url
    links = []
    for href, texts, rel in parser.raw:
        if not href or href.lower().startswith(("javascript:", "mailto:", "tel:", "#")):
            continue
        anchor = " ".join(" ".join(texts).split())
        links.append(FoundLink(href=urljoin(base, href), anchor=anchor, rel=rel))
    canonical = urljoin(base, parser.canonical) if parser.canonical else ""
    return ParsedPage(links=links, base_href=base if parser.base else "", robots=parser.robots, canonical=canonical)


def _says_noindex(directives: str) -> bool:
    """``noindex`` or ``none`` in a robots meta value or an X-Robots-Tag (``googlebot: noindex`` too)."""
    tokens = directives.lower().replace(":", ",").replace(";", ",").split(",")
    return any(token.strip() in ("noindex", "none") for token in tokens)


def best_link(links: Iterable[FoundLink], targets: TargetSet) -> tuple[FoundLink | None, int]:
    """The link to a target that counts most (the first followed one, else the first), and how many there are."""
    matching = [link for link in links if targets.matches(link.href)]
    followed = [link for link in matching if link.follow]
    chosen = (followed or matching or [None])[0]
    return chosen, len(matching)


# --- one check ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    """The outcome of fetching one linking page. ``error`` says why when nothing was read."""

    outcome: str
    url: str
    final_url: str = ""
    http_status: int | None = None
    link: FoundLink | None = None
    matching_links: int = 0
    noindex: bool = False
    noindex_source: str = ""  # "meta", "header" or both, comma separated
    canonical: str = ""
    error: str = ""


def check_page(url: str, targets: TargetSet, *, client: SafeClient) -> CheckResult:
    """Fetch ``url`` and say whether it links to ``targets`` (see the module docstring)."""
    try:
        response = client.get(url, if_too_large="truncate")
    except Timeout as exc:
        return CheckResult(outcome=LinkStatus.UNDEFINED, url=url, error=exc.message)
    except FetchError as exc:
        # Only a name that does not resolve is the page being gone; everything else is "cannot tell".
        # The name is first looked up for robots.txt, whose failure safehttp reports as a refusal
        # that quotes the resolver's "cannot resolve …".
        outcome = LinkStatus.BROKEN if "cannot resolve " in exc.message else LinkStatus.UNDEFINED
        return CheckResult(outcome=outcome, url=url, error=exc.message)
    common = {"url": url, "final_url": response.final_url, "http_status": response.status_code}
    if response.status_code == 429:
        return CheckResult(outcome=LinkStatus.UNDEFINED, error="the site asked us to slow down (429)", **common)
    if response.status_code >= 400:
        return CheckResult(outcome=LinkStatus.BROKEN, error=f"the page answered {response.status_code}", **common)
    if response.status_code >= 300:
        return CheckResult(outcome=LinkStatus.UNDEFINED, error="a redirect without a location", **common)
    header_noindex = _says_noindex(",".join(response.headers.get_list("x-robots-tag")))
    if response.content_type not in _HTML_TYPES:
        return CheckResult(
            outcome=LinkStatus.LOST,
            noindex=header_noindex,
            noindex_source=_source(False, header_noindex),
            error=f"not an HTML page ({response.content_type})",
            **common,
        )
    page = parse_page(response.text, response.final_url)
    link, count = best_link(page.links, targets)
    if link is not None:
        outcome = LinkStatus.ACTIVE
    elif response.truncated:
        outcome = LinkStatus.UNDEFINED  # the link may sit past the part we read
    else:
        outcome = LinkStatus.LOST
    return CheckResult(
        outcome=outcome,
        link=link,
        matching_links=count,
        noindex=page.noindex or header_noindex,
        noindex_source=_source(page.noindex, header_noindex),
        canonical=page.canonical,
        error="the page is larger than we read, and the part read has no link"
        if outcome == LinkStatus.UNDEFINED
        else "",
        **common,
    )


def _source(meta: bool, header: bool) -> str:
    return ",".join(name for name, said in (("meta", meta), ("header", header)) if said)
