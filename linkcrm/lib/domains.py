"""URL → host → registrable domain, the one way the whole product names a site.

Hosts are lower-cased, IDNs turned into punycode, a trailing dot and ``www.`` folded.
The registrable domain ("example.co.uk" for "blog.example.co.uk") comes from tldextract's
bundled public-suffix snapshot: it is never fetched (no network at run time).
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from urllib.parse import urlsplit

import tldextract

# suffix_list_urls=() and no cache dir: use the list shipped inside the package, offline.
_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=False)


# The same public-suffix rules as a nested dict (label -> children; _END marks a rule's last
# label), walked by split_plain_host. tldextract spends twice as long on generality a plain
# host does not need (punycode decoding, IPv6 checks, result objects); an import meets a
# quarter of a million distinct hosts.
_END = ""


@lru_cache(maxsize=1)
def _suffix_trie() -> dict[str, dict]:
    """Built on first use, not at import: every process imports this module, few split hosts."""
    root: dict[str, dict] = {}
    for rule in _EXTRACT.tlds:
        node = root
        for label in reversed(rule.split(".")):
            node = node.setdefault(label, {})
        node[_END] = {}
    return root


# Lower-case ASCII DNS labels, the last starting with a letter (so not an IP address).
PLAIN_HOST = re.compile(r"(?:[a-z0-9-]{1,63}\.)+[a-z][a-z0-9-]{0,62}")


def is_plain_host(host: str) -> bool:
    """A lower-case ASCII DNS name that normalize_host would leave as it is (bar ``www.``)."""
    return len(host) <= 253 and PLAIN_HOST.fullmatch(host) is not None and "xn--" not in host


def split_plain_host(host: str) -> tuple[str, str]:
    """(registrable domain, public suffix) of a *plain* host, exactly as tldextract splits it.

    Plain: ``is_plain_host`` and ``www.`` already folded (the caller checks; anything else
    takes the general functions below). The domain is
    the host itself when it has no public suffix or is one; the suffix is then "" or the host.
    tests/linkcrm/test_domains.py compares it with tldextract on every rule shape.
    """
    labels = host.split(".")
    node, matched, start = _suffix_trie(), len(labels), len(labels)
    for label in reversed(labels):
        child = node.get(label)
        if child is not None:
            matched -= 1
            node = child
            if _END in node:
                start = matched
            continue
        if "*" in node:  # a wildcard rule covers this label, unless an exception names it
            start = matched if "!" + label in node else matched - 1
        break
    if start == len(labels):
        return host, ""
    suffix = ".".join(labels[start:])
    return (".".join(labels[start - 1 :]), suffix) if start > 0 else (host, suffix)


# One DNS label. Real exports hold hosts that break RFC 1035 ("zh-.example.com", "my_host"):
# hyphens and underscores are accepted anywhere; spaces, punctuation and empty labels are not.
_LABEL = re.compile(r"[a-z0-9_-]{1,63}")


class DomainError(ValueError):
    """The text is not a usable host or URL."""


# Bounded caches: an import of 1M links meets ~200k hosts; memory must stay flat in file size.
@lru_cache(maxsize=65536)
def normalize_host(host: str) -> str:
    """``WWW.Bücher.DE.`` → ``xn--bcher-kva.de``. Raises DomainError for empty or invalid hosts."""
    text = host.strip().rstrip(".").lower()
    if not text:
        raise DomainError("empty host")
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if _could_be_ip(text):
        try:
            return str(ipaddress.ip_address(text))
        except ValueError:
            pass
    try:
        ascii_host = text.encode("idna").decode("ascii") if not text.isascii() else text
    except UnicodeError as exc:
        raise DomainError(f"invalid international host name {host!r}: {exc}") from None
    if len(ascii_host) > 253 or not all(_LABEL.fullmatch(label) for label in ascii_host.split(".")):
        raise DomainError(f"invalid host name {host!r}")
    return fold_www(ascii_host)


def fold_www(host: str) -> str:
    """``www.example.com`` → ``example.com``; a bare ``www.com`` keeps its label."""
    return host[4:] if host.startswith("www.") and host.count(".") >= 2 else host


def host_of_url(url: str) -> str:
    """The normalised host of a URL; a bare host (no scheme) is accepted too."""
    text = url.strip()
    if "://" not in text:
        text = "http://" + text.lstrip("/")
    try:
        hostname = urlsplit(text).hostname
    except ValueError as exc:
        raise DomainError(f"invalid URL {url!r}: {exc}") from None
    if not hostname:
        raise DomainError(f"URL has no host: {url!r}")
    return normalize_host(hostname)


def _could_be_ip(text: str) -> bool:
    """Cheap pre-check: IPv4 ends in a digit, IPv6 has a colon. Spares most hosts an exception."""
    return ":" in text or text[-1:].isdigit()


@lru_cache(maxsize=65536)
def registrable_domain(host: str) -> str:
    """``blog.example.co.uk`` → ``example.co.uk``; IPs and suffix-less hosts are returned as they are."""
    normalized = normalize_host(host)
    if _could_be_ip(normalized):
        try:
            ipaddress.ip_address(normalized)
            return normalized
        except ValueError:
            pass
    parts = _EXTRACT(normalized)
    if parts.domain and parts.suffix:
        return f"{parts.domain}.{parts.suffix}"
    return normalized


def require_registrable(host: str) -> str:
    """The registrable domain of ``host``, or DomainError saying why it has none.

    For things that must be a real domain (a site, a prospect): IP addresses, names without a
    public suffix (``localhost``, ``intranet``) and bare suffixes (``co.uk``) are refused.
    """
    normalized = normalize_host(host)
    if _could_be_ip(normalized):
        try:
            ipaddress.ip_address(normalized)
        except ValueError:
            pass
        else:
            raise DomainError(f"{normalized} is an IP address, not a domain")
    parts = _EXTRACT(normalized)
    if not parts.suffix:
        raise DomainError(f"{normalized} has no public suffix (like .com or .co.uk)")
    if not parts.domain:
        raise DomainError(f"{normalized} is a public suffix, not a registrable domain")
    return f"{parts.domain}.{parts.suffix}"


def domain_of_url(url: str) -> str:
    return registrable_domain(host_of_url(url))


def tld_of_host(host: str) -> str:
    """The public suffix (``co.uk``, ``com``), or empty for IPs and bare names."""
    parts = _EXTRACT(normalize_host(host))
    return parts.suffix


def is_public_suffix(name: str) -> bool:
    """True for names like ``org.br`` or ``com`` that are suffixes, not registrable domains."""
    normalized = normalize_host(name)
    parts = _EXTRACT(normalized)
    return not parts.domain and bool(parts.suffix)
