"""Host and registrable-domain normalisation (tldextract's bundled list, never fetched)."""

from __future__ import annotations

import pytest

from linkcrm.lib import domains
from linkcrm.lib.domains import (
    DomainError,
    domain_of_url,
    host_of_url,
    is_public_suffix,
    normalize_host,
    registrable_domain,
    tld_of_host,
)


@pytest.mark.parametrize(
    ("url", "host", "domain"),
    [
        ("https://WWW.Example.COM./path", "example.com", "example.com"),
        ("http://blog.example.co.uk/x", "blog.example.co.uk", "example.co.uk"),
        ("https://www.bücher.de/", "xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("example.org.br", "example.org.br", "example.org.br"),
        ("http://192.0.2.7:8080/", "192.0.2.7", "192.0.2.7"),
        ("http://[2001:db8::1]/", "2001:db8::1", "2001:db8::1"),
        ("https://my_host.example.com/", "my_host.example.com", "example.com"),
        ("http://zh-.example.com/", "zh-.example.com", "example.com"),  # seen in a real Semrush export
    ],
)
def test_it_normalises_hosts_and_registrable_domains(url, host, domain):
    assert host_of_url(url) == host
    assert domain_of_url(url) == domain


def test_www_is_folded_only_when_something_remains():
    assert normalize_host("www.example.com") == "example.com"
    assert normalize_host("www.com") == "www.com"


@pytest.mark.parametrize(
    "bad", ["", "not a url at all ::", "exa mple.com", "a..b.com", "ex!ample.com", "x" * 64 + ".com"]
)
def test_it_refuses_what_is_not_a_host(bad):
    with pytest.raises(DomainError):
        host_of_url(bad)


def test_public_suffixes_are_recognised():
    assert is_public_suffix("org.br") and is_public_suffix("co.uk")
    assert not is_public_suffix("example.org.br")
    assert tld_of_host("shop.example.co.uk") == "co.uk"
    assert registrable_domain("a.b.c.example.com") == "example.com"


@pytest.mark.parametrize(
    ("host", "why"),
    [("192.0.2.1", "IP address"), ("localhost", "no public suffix"), ("co.uk", "public suffix")],
)
def test_require_registrable_says_why_a_host_has_no_registrable_domain(host, why):
    from linkcrm.lib.domains import require_registrable

    with pytest.raises(DomainError, match=why):
        require_registrable(host)
    assert require_registrable("shop.example.co.uk") == "example.co.uk"


def _hosts_shaped_like_every_rule() -> list[str]:
    """Hosts at, under and beside every ASCII public-suffix rule: plain, wildcard, exception."""
    hosts = {"foo.unknowntld", "example.com", "blog.example.co.uk", "co.uk", "com", "a.b.c.d.example"}
    for rule in domains._EXTRACT.tlds:  # noqa: SLF001 - the reference the fast walk must equal
        if not rule.isascii():
            continue
        base = rule.lstrip("!").replace("*", "zz")
        hosts.update(f"{prefix}{base}" for prefix in ("", "a.", "b.a.", "city.", "www2.city."))
        hosts.add("x." + rule.lstrip("!").replace("*.", ""))
    return sorted(host for host in hosts if domains.is_plain_host(host) and domains.fold_www(host) == host)


def test_the_plain_host_walk_splits_every_rule_shape_exactly_as_tldextract():
    hosts = _hosts_shaped_like_every_rule()
    assert len(hosts) > 30_000  # the whole bundled list, not a handful
    for host in hosts:
        parts = domains._EXTRACT(host)  # noqa: SLF001
        expected = (f"{parts.domain}.{parts.suffix}" if parts.domain and parts.suffix else host, parts.suffix)
        assert domains.split_plain_host(host) == expected, host


@pytest.mark.parametrize(
    ("host", "plain"),
    [("example.com", True), ("www.example.com", True), ("Example.com", False), ("xn--bcher-kva.de", False),
     ("192.0.2.1", False), ("a_b.example.com", False), ("localhost", False), ("a." * 127 + "com", False)],
)  # fmt: skip
def test_only_names_normalize_host_leaves_alone_count_as_plain(host, plain):
    assert domains.is_plain_host(host) is plain
    if plain:
        assert domains.normalize_host(host) == domains.fold_www(host)
