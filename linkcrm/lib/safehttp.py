"""The one HTTP client for URLs fetched on a user's behalf (contact discovery, link checks).

A URL typed by a user or found on someone else's page must never reach our own network:
``SafeClient`` refuses schemes other than http/https, ports other than the allowed ones,
and every private, loopback, link-local, CGNAT, multicast, reserved or metadata address,
including IPv4 hidden inside IPv6 (``::ffff:127.0.0.1``, NAT64 ``64:ff9b::/96``, 6to4
``2002::/16``) and odd IPv4 spellings (``2130706433``, ``0x7f.1``, ``017700000001``).

Names are resolved once, by us, and the socket is opened to the vetted address itself (a
custom httpcore network backend), so a DNS answer that changes between check and connect
(rebinding) cannot redirect us; the Host header and TLS SNI still carry the name. Every
redirect hop goes through the same checks. Bodies are capped while streaming, the whole
fetch (robots.txt, hops and body) has one deadline, and robots.txt is honoured for our
User-Agent (cached per origin for the life of the client).

Tests reach servers they start on 127.0.0.1 by passing ``allow={"127.0.0.1:PORT"}``: an
exact host:port lifted for that one client, never a global switch.

    with SafeClient() as client:
        page = client.get("https://example.com/contact")   # -> SafeResponse or a FetchError
"""

from __future__ import annotations

import codecs
import ipaddress
import re
import socket
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

import httpcore
import httpx

from linkcrm.lib.robots import RobotsRules, parse_robots

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
DEFAULT_USER_AGENT = "LinkCRM/1.0 (self-hosted link-building CRM; contact discovery and link checks)"


# --- errors ------------------------------------------------------------------------------


class FetchError(Exception):
    """The URL could not be fetched; ``str(exc)`` is safe to show to the user."""

    def __init__(self, message: str, *, url: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.url = url


class BlockedUrl(FetchError):
    """Refused before connecting: bad scheme, port, credentials in the URL, or no host."""


class BlockedAddress(BlockedUrl):
    """The host is, or resolves to, an address we never connect to."""

    def __init__(self, message: str, *, url: str = "", host: str = "", address: str = "") -> None:
        super().__init__(message, url=url)
        self.host = host
        self.address = address


class TooLarge(FetchError):
    """The body is larger than the cap (raised while streaming, never after reading it all)."""


class Timeout(FetchError):
    """A connect/read timed out, or the fetch as a whole went past its deadline."""


class TooManyRedirects(FetchError):
    """More redirect hops than allowed."""


class RobotsDisallowed(FetchError):
    """The site's robots.txt does not let our User-Agent fetch this URL."""


# --- which addresses are off limits --------------------------------------------------------

_BLOCKED_NETWORKS = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
        "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
        # IPv6: unspecified/loopback/IPv4-compatible, discard, Teredo and other IETF ranges,
        # documentation, local-use NAT64, unique-local, link-local, site-local, multicast.
        "::/96", "100::/64", "2001::/23", "2001:db8::/32", "64:ff9b:1::/48",
        "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NUMBER_PART = re.compile(r"^(?:0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*)$")


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, NAT64, 6to4), or None."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def address_block_reason(address: IPAddress) -> str | None:
    """Why we never connect to ``address``, or None for a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            why = address_block_reason(inner)
            return f"{why} (inside {address})" if why else None
    for network in _BLOCKED_NETWORKS:
        if address.version == network.version and address in network:
            return f"{address} is a private, loopback, link-local or reserved address ({network})"
    if address.is_multicast or not address.is_global:
        return f"{address} is not a public address"
    return None


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address a host string spells, in any form a C resolver accepts, else None.

    ``2130706433``, ``0x7f.1``, ``017700000001`` and ``127.1`` are all 127.0.0.1 to
    ``inet_aton``; reading them ourselves means a fake resolver in tests, or a resolver
    that does not know these forms, cannot let them slip past the check.
    """
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        pass
    parts = text.rstrip(".").split(".")
    if not 1 <= len(parts) <= 4 or not all(_NUMBER_PART.match(part) for part in parts):
        return None
    numbers = [_parse_number(part) for part in parts]
    *leading, last = numbers
    if any(n > 255 for n in leading) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last
    for index, number in enumerate(leading):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _parse_number(part: str) -> int:
    if part[:2].lower() == "0x":
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8)
    return int(part)


# --- resolving names ----------------------------------------------------------------------


class Resolver(Protocol):
    """Turns a host name into addresses. Injected so tests never touch real DNS."""

    def resolve(self, host: str, port: int) -> list[IPAddress]: ...


class SystemResolver:
    """The operating system's resolver (getaddrinfo)."""

    def resolve(self, host: str, port: int) -> list[IPAddress]:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise FetchError(f"cannot resolve {host}: {getattr(exc, 'strerror', None) or exc}") from None
        addresses: list[IPAddress] = []
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            if address not in addresses:
                addresses.append(address)
        return addresses


class StaticResolver:
    """A fixed table of names (for tests and offline demos); unknown names do not resolve."""

    def __init__(self, table: Mapping[str, Iterable[str]]) -> None:
        self.table = {name.lower(): [ipaddress.ip_address(a) for a in addrs] for name, addrs in table.items()}
        self.calls: list[str] = []

    def resolve(self, host: str, port: int) -> list[IPAddress]:
        self.calls.append(host)
        if host.lower() not in self.table:
            raise FetchError(f"cannot resolve {host}: unknown name")
        return list(self.table[host.lower()])


# --- configuration ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SafeHttpConfig:
    """Limits of one client; ``from_settings()`` reads the LINKCRM_HTTP_* settings."""

    user_agent: str = DEFAULT_USER_AGENT
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_timeout: float = 20.0
    max_bytes: int = 2 * 1024 * 1024
    max_redirects: int = 5
    allowed_ports: frozenset[int] = frozenset({80, 443})
    robots_max_bytes: int = 512 * 1024
    robots_cache_size: int = 256

    @classmethod
    def from_settings(cls) -> SafeHttpConfig:
        from django.conf import settings

        return cls(
            user_agent=settings.LINKCRM_HTTP_USER_AGENT,
            connect_timeout=float(settings.LINKCRM_HTTP_CONNECT_TIMEOUT),
            read_timeout=float(settings.LINKCRM_HTTP_READ_TIMEOUT),
            total_timeout=float(settings.LINKCRM_HTTP_TOTAL_TIMEOUT),
            max_bytes=settings.LINKCRM_HTTP_MAX_BYTES,
            max_redirects=settings.LINKCRM_HTTP_MAX_REDIRECTS,
            allowed_ports=frozenset(settings.LINKCRM_HTTP_ALLOWED_PORTS),
            robots_cache_size=settings.LINKCRM_HTTP_ROBOTS_CACHE_SIZE,
        )


# --- results -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Hop:
    """One redirect answered on the way: the URL asked and its status."""

    url: str
    status_code: int


@dataclass(frozen=True)
class SafeResponse:
    """A fetched page. Any status is a response (a 404 is an answer, not an error)."""

    url: str
    final_url: str
    status_code: int
    headers: httpx.Headers
    content: bytes
    truncated: bool
    redirects: tuple[Hop, ...]

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    @property
    def encoding(self) -> str:
        """The charset from the header, else from a ``<meta charset>``, else UTF-8."""
        for source in (self.headers.get("content-type", ""), self.content[:2048].decode("ascii", "replace")):
            match = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", source, re.IGNORECASE)
            if match and _known_codec(match.group(1)):
                return match.group(1).lower()
        return "utf-8"

    @property
    def text(self) -> str:
        return self.content.decode(self.encoding, errors="replace")


def _known_codec(name: str) -> bool:
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


# --- the client ----------------------------------------------------------------------------


class _VettingBackend(httpcore.SyncBackend):
    """Opens TCP connections only to addresses the client vetted, never re-resolving the name."""

    def __init__(self, vet: Callable[[str, int], list[IPAddress]]) -> None:
        self._vet = vet

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None, socket_options: Iterable | None = None):
        addresses = self._vet(host, port)
        failure: Exception | None = None
        for address in addresses[:3]:
            try:
                return super().connect_tcp(str(address), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure or httpcore.ConnectError(f"no address for {host}")


class _SafeTransport(httpx.HTTPTransport):
    def __init__(self, backend: _VettingBackend) -> None:
        super().__init__(trust_env=False)
        # httpx takes no network backend, so swap its pool for one built on ours. No proxy:
        # a proxy would connect for us and bypass the vetting.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=10, max_keepalive_connections=10, keepalive_expiry=5.0,
            retries=0, network_backend=backend,
        )


class SafeClient:
    """Fetch user-supplied URLs safely. Not thread-safe; one per job (e.g. one discovery run).

    ``allow``: exact ``host:port`` pairs (``127.0.0.1:8123``, ``[::1]:8123``) exempt from the
    address block and the port rule — for tests that serve pages on loopback. ``resolver``
    and ``clock`` are injectable for the same reason. ``obey_robots`` checks robots.txt
    before every hop.
    """

    def __init__(
        self, config: SafeHttpConfig | None = None, *, allow: Iterable[str] = (),
        resolver: Resolver | None = None, obey_robots: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config or SafeHttpConfig.from_settings()
        self._allow = frozenset(_normalise_allow_entry(entry) for entry in allow)
        self._resolver = resolver or SystemResolver()
        self._obey_robots = obey_robots
        self._clock = clock
        self._robots: OrderedDict[str, RobotsRules] = OrderedDict()
        self._http = httpx.Client(
            transport=_SafeTransport(_VettingBackend(self._vetted_addresses)),
            follow_redirects=False, trust_env=False,
            headers={
                "User-Agent": self.config.user_agent,
                "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.5",
                "Accept-Encoding": "gzip, deflate",
            },
        )

    def __enter__(self) -> SafeClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def get(self, url: str, *, max_bytes: int | None = None,
            if_too_large: Literal["raise", "truncate"] = "raise") -> SafeResponse:
        """GET ``url`` following safe redirects. ``if_too_large="truncate"`` keeps the first
        ``max_bytes`` and sets ``truncated`` instead of raising TooLarge."""
        limit = max_bytes if max_bytes is not None else self.config.max_bytes
        return self._fetch("GET", url, limit=limit, truncate=if_too_large == "truncate",
                           deadline=self._clock() + self.config.total_timeout, robots=self._obey_robots)

    def head(self, url: str) -> SafeResponse:
        """HEAD ``url`` following safe redirects (empty content)."""
        return self._fetch("HEAD", url, limit=0, truncate=True,
                           deadline=self._clock() + self.config.total_timeout, robots=self._obey_robots)

    def robots_for(self, url: str) -> RobotsRules:
        """The robots.txt rules for the URL's origin (fetched once per origin per client)."""
        target = self._checked_url(url)
        return self._robots_rules(target, self._clock() + self.config.total_timeout)

    # -- one fetch, hop by hop --

    def _fetch(self, method: str, url: str, *, limit: int, truncate: bool, deadline: float,
               robots: bool, max_redirects: int | None = None) -> SafeResponse:
        hops: list[Hop] = []
        current = url
        most = self.config.max_redirects if max_redirects is None else max_redirects
        for _ in range(most + 1):
            target = self._checked_url(current)
            if robots:
                rules = self._robots_rules(target, deadline)
                if not rules.allows(target.raw_path.decode("ascii")):
                    raise RobotsDisallowed(_robots_message(rules, str(target)), url=str(target))
            status, headers, body, cut = self._send(method, target, limit=limit, truncate=truncate,
                                                    deadline=deadline)
            location = headers.get("location") if status in REDIRECT_STATUSES else None
            if not location:
                return SafeResponse(url=url, final_url=str(target), status_code=status, headers=headers,
                                    content=body, truncated=cut, redirects=tuple(hops))
            hops.append(Hop(url=str(target), status_code=status))
            current = str(target.join(location))
            if status == 303 and method != "HEAD":
                method = "GET"
        raise TooManyRedirects(f"more than {most} redirects", url=url)

    def _checked_url(self, url: str) -> httpx.URL:
        """The parsed URL when its scheme, credentials, host and port may be fetched."""
        try:
            target = httpx.URL(url)
        except (httpx.InvalidURL, TypeError) as exc:
            raise BlockedUrl(f"invalid URL: {exc}", url=str(url)) from None
        if target.scheme not in ("http", "https"):
            raise BlockedUrl("only http and https URLs are fetched", url=url)
        if target.userinfo:
            raise BlockedUrl("URLs with a user name or password are not fetched", url=url)
        if not target.raw_host:
            raise BlockedUrl("the URL has no host", url=url)
        host, port = target.raw_host.decode("ascii"), _port_of(target)
        if not self._allowed(host, port):
            literal = parse_ip_literal(host)
            why = address_block_reason(literal) if literal is not None else None
            if why:
                raise BlockedAddress(f"refused: {why}", url=url, host=host, address=str(literal))
            if port not in self.config.allowed_ports:
                raise BlockedUrl(f"port {port} is not allowed", url=url)
        return target

    def _vetted_addresses(self, host: str, port: int) -> list[IPAddress]:
        """Resolve once and vet every answer; the caller connects only to these addresses."""
        literal = parse_ip_literal(host)
        addresses = [literal] if literal is not None else self._resolver.resolve(host, port)
        if not addresses:
            raise FetchError(f"cannot resolve {host}: no addresses")
        if self._allowed(host, port):
            return addresses
        for address in addresses:
            why = address_block_reason(address)
            if why:
                # One bad answer refuses the name: picking the "good" one would let a
                # multi-answer rebinding trick through on the next connection.
                raise BlockedAddress(f"refused {host}: {why}", host=host, address=str(address))
        return addresses

    def _allowed(self, host: str, port: int) -> bool:
        return bool(self._allow) and _normalise_allow_entry(f"{_bracketed(host)}:{port}") in self._allow

    def _send(self, method: str, target: httpx.URL, *, limit: int, truncate: bool,
              deadline: float) -> tuple[int, httpx.Headers, bytes, bool]:
        """One request/response without redirects: status, headers, capped body, truncated."""
        remaining = self._remaining(deadline, str(target))
        timeout = httpx.Timeout(min(self.config.read_timeout, remaining),
                                connect=min(self.config.connect_timeout, remaining))
        try:
            response = self._http.send(self._http.build_request(method, target, timeout=timeout), stream=True)
        except httpx.TimeoutException:
            raise Timeout(f"timed out fetching {target}", url=str(target)) from None
        except httpx.HTTPError as exc:
            raise FetchError(f"could not fetch {target}: {exc}", url=str(target)) from None
        except FetchError as exc:
            exc.url = exc.url or str(target)
            raise
        try:
            if response.status_code in REDIRECT_STATUSES or method == "HEAD":
                return response.status_code, response.headers, b"", False
            body, cut = self._read_capped(response, limit=limit, truncate=truncate, deadline=deadline)
            return response.status_code, response.headers, body, cut
        finally:
            response.close()

    def _read_capped(self, response: httpx.Response, *, limit: int, truncate: bool,
                     deadline: float) -> tuple[bytes, bool]:
        url = str(response.request.url)
        declared = response.headers.get("content-length", "")
        if not truncate and declared.isdigit() and int(declared) > limit:
            raise TooLarge(f"the response is {declared} bytes, more than the {limit} allowed", url=url)
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_bytes():
                self._remaining(deadline, url)
                if size + len(chunk) > limit:
                    if not truncate:
                        raise TooLarge(f"the response is larger than the {limit} bytes allowed", url=url)
                    chunks.append(chunk[: limit - size])
                    return b"".join(chunks), True
                chunks.append(chunk)
                size += len(chunk)
        except httpx.TimeoutException:
            raise Timeout(f"timed out reading {url}", url=url) from None
        except httpx.HTTPError as exc:
            raise FetchError(f"could not read {url}: {exc}", url=url) from None
        return b"".join(chunks), False

    def _remaining(self, deadline: float, url: str) -> float:
        remaining = deadline - self._clock()
        if remaining <= 0:
            raise Timeout(f"gave up on {url} after {self.config.total_timeout:g} s", url=url)
        return remaining

    # -- robots.txt --

    def _robots_rules(self, target: httpx.URL, deadline: float) -> RobotsRules:
        origin = f"{target.scheme}://{target.netloc.decode('ascii')}"
        rules = self._robots.get(origin)
        if rules is None:
            rules = self._load_robots(origin, deadline)
            self._robots[origin] = rules
            while len(self._robots) > self.config.robots_cache_size:
                self._robots.popitem(last=False)
        return rules

    def _load_robots(self, origin: str, deadline: float) -> RobotsRules:
        """RFC 9309 2.3.1: 2xx is parsed; 4xx or too many redirects mean no rules;
        5xx or unreachable mean nothing is allowed."""
        try:
            response = self._fetch("GET", origin + "/robots.txt", limit=self.config.robots_max_bytes,
                                   truncate=True, deadline=deadline, robots=False, max_redirects=5)
        except (TooManyRedirects, BlockedUrl):
            return RobotsRules.allow_all()
        except FetchError as exc:
            return RobotsRules.disallow_all(note=f"robots.txt could not be fetched ({exc.message})")
        if response.status_code >= 500:
            return RobotsRules.disallow_all(note=f"robots.txt answered {response.status_code}")
        if response.status_code >= 400:
            return RobotsRules.allow_all()
        return parse_robots(response.text, self.config.user_agent)


def _robots_message(rules: RobotsRules, url: str) -> str:
    return f"robots.txt does not allow fetching {url}" + (f": {rules.note}" if rules.note else "")


def _port_of(url: httpx.URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _normalise_allow_entry(entry: str) -> str:
    """``127.0.0.1:8000`` or ``[::1]:8000`` in one spelling; a port is required."""
    host, sep, port = entry.strip().lower().rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"allow entries are exact host:port pairs, got {entry!r}")
    return f"{_bracketed(host.strip('[]'))}:{int(port)}"
