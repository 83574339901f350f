"""Host and registrable-domain normalisation (tldextract's bundled list, never fetched)."""

from __future__ import annotations

import pytest

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
