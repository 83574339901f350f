"""The SSRF-safe client: what it refuses, how it follows redirects, caps and robots.txt.

Pages come from a real HTTP server on 127.0.0.1 (tests/lib/loopback.py), reachable only
through an explicit ``allow=[server.hostport]``; names go through a StaticResolver, so no
test uses real DNS or leaves the machine.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import replace

import pytest

from linkcrm.lib.robots import parse_robots
from linkcrm.lib.safehttp import (
    BlockedAddress,
    BlockedUrl,
    FetchError,
    Hop,
    RobotsDisallowed,
    SafeClient,
    SafeHttpConfig,
    StaticResolver,
    Timeout,
    TooLarge,
    TooManyRedirects,
    address_block_reason,
    parse_ip_literal,
)
from tests.lib.loopback import LoopbackServer, serve

CONFIG = SafeHttpConfig(user_agent="LinkCRM/1.0 (tests)", max_bytes=64 * 1024)


@pytest.fixture
def server():
    yield from serve()


def client_for(srv: LoopbackServer, *, robots: bool = False, config: SafeHttpConfig = CONFIG,
               **kwargs) -> SafeClient:
    kwargs.setdefault("resolver", StaticResolver({}))
    return SafeClient(config, allow=[srv.hostport], obey_robots=robots, **kwargs)


# --- the allowed test server and the block around it ------------------------------------


def test_it_fetches_a_page_from_the_allowed_test_server(server):
    server.page("/hello", "<p>héllo</p>")
    with client_for(server) as client:
        response = client.get(server.url("/hello"))
    assert (response.status_code, response.text, response.truncated) == (200, "<p>héllo</p>", False)
    assert response.final_url == server.url("/hello") and response.redirects == ()
    assert server.requests[0].headers["User-Agent"] == "LinkCRM/1.0 (tests)"


def test_it_refuses_loopback_without_the_allowance(server):
    server.page("/", "secret")
    config = replace(CONFIG, allowed_ports=frozenset({80, 443, server.port}))  # the port alone is not enough
    client = SafeClient(config, resolver=StaticResolver({}), obey_robots=False)
    with client, pytest.raises(BlockedAddress) as refused:
        client.get(server.url("/"))
    assert refused.value.address == "127.0.0.1"
    assert server.requests == []


def test_the_allowance_is_that_exact_host_and_port_only(server):
    server.page("/", "ok")
    resolver = StaticResolver({"localhost": ["127.0.0.1"]})
    config = replace(CONFIG, allowed_ports=frozenset({80, 443, server.port}))
    with SafeClient(config, allow=[server.hostport], resolver=resolver, obey_robots=False) as client:
        assert client.get(server.url("/")).text == "ok"
        with pytest.raises(BlockedAddress):
            client.get(server.url("/", host="localhost"))  # same socket, other name: not allowed
        with pytest.raises(BlockedAddress):
            client.get(f"http://127.0.0.1:{server.port + 1}/")
    assert server.paths() == ["/"]


def test_allow_entries_must_name_a_port():
    with pytest.raises(ValueError, match="host:port"):
        SafeClient(CONFIG, allow=["127.0.0.1"])


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/", "http://127.255.255.254/", "http://10.0.0.1/", "http://172.16.0.1/",
        "http://172.31.255.255/", "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/", "http://0.0.0.0/", "http://0/", "http://224.0.0.1/", "http://239.255.255.250/",
        "http://240.0.0.1/", "http://255.255.255.255/", "http://198.18.0.1/",
        "http://[::1]/", "http://[::]/", "http://[fc00::1]/", "http://[fd12:3456::1]/", "http://[fe80::1]/",
        "http://[ff02::1]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:169.254.169.254]/",
        "http://[::ffff:a00:1]/", "http://[64:ff9b::a00:1]/", "http://[64:ff9b::7f00:1]/",
        "http://[64:ff9b::a9fe:a9fe]/", "http://[2002:7f00:1::]/", "http://[2002:a9fe:a9fe::1]/",
        "http://[2002:c0a8:101::]/", "http://[::127.0.0.1]/", "http://[2001:0:4136:e378::1]/",
        # IPv4 spelled the ways inet_aton reads them
        "http://2130706433/", "http://0x7f.1/", "http://017700000001/", "http://0x7f000001/",
        "http://127.1/", "http://0x7f.0.0.1/", "http://2852039166/",
        "https://0xa9.0xfe.0xa9.0xfe/", "http://127.0.0.1.:80/",
    ],
)
def test_it_refuses_private_loopback_link_local_and_reserved_addresses(url):
    resolver = StaticResolver({})
    with SafeClient(CONFIG, resolver=resolver, obey_robots=False) as client, pytest.raises(BlockedAddress):
        client.get(url)
    assert resolver.calls == []  # refused from the literal itself, before any lookup or connect


def test_dotted_quads_with_octal_parts_are_refused_as_invalid():
    # httpx itself rejects a four-part dotted address with a leading zero; it never connects.
    resolver = StaticResolver({})
    client = SafeClient(CONFIG, resolver=resolver, obey_robots=False)
    with client, pytest.raises(BlockedUrl, match="invalid URL"):
        client.get("http://0177.0.0.1/")
    assert resolver.calls == []


def test_names_that_resolve_to_blocked_addresses_are_refused_before_connecting():
    resolver = StaticResolver({
        "internal.test": ["10.1.2.3"], "metadata.test": ["169.254.169.254"],
        "mapped.test": ["::ffff:192.168.0.1"], "nat64.test": ["64:ff9b::c0a8:1"],
        # one good answer does not excuse a bad one (multi-answer rebinding)
        "mixed.test": ["93.184.216.34", "127.0.0.1"],
    })
    with SafeClient(CONFIG, resolver=resolver, obey_robots=False) as client:
        for name in ("internal", "metadata", "mapped", "nat64", "mixed"):
            with pytest.raises(BlockedAddress, match=f"refused {name}.test"):
                client.get(f"http://{name}.test/")


def test_it_connects_to_the_address_it_vetted_and_keeps_the_host_header(server):
    server.page("/", "pinned")
    # .test names never resolve in real DNS: reaching the server proves the vetted address
    # was used for the socket, and the lookup happened exactly once.
    resolver = StaticResolver({"shop.test": ["127.0.0.1"]})
    allow = [f"shop.test:{server.port}"]
    with SafeClient(CONFIG, allow=allow, resolver=resolver, obey_robots=False) as client:
        assert client.get(f"http://shop.test:{server.port}/").text == "pinned"
    assert resolver.calls == ["shop.test"]
    assert server.requests[0].headers["Host"] == f"shop.test:{server.port}"


def test_environment_proxies_are_ignored(server, monkeypatch):
    # A proxy would connect on our behalf and skip the vetting entirely.
    monkeypatch.setenv("HTTP_PROXY", "http://10.9.9.9:3128")
    monkeypatch.setenv("ALL_PROXY", "http://10.9.9.9:3128")
    server.page("/", "direct")
    with client_for(server) as client:
        assert client.get(server.url("/")).text == "direct"


@pytest.mark.parametrize(
    "url, why",
    [
        ("file:///etc/passwd", "only http and https"),
        ("ftp://example.com/", "only http and https"),
        ("gopher://example.com/", "only http and https"),
        ("http://user:secret@example.com/", "user name or password"),
        ("http://example.com:8080/", "port 8080 is not allowed"),
        ("https://example.com:22/", "port 22 is not allowed"),
        ("http:///nohost", "no host"),
    ],
)
def test_it_refuses_other_schemes_credentials_and_ports(url, why):
    resolver = StaticResolver({})
    client = SafeClient(CONFIG, resolver=resolver, obey_robots=False)
    with client, pytest.raises(BlockedUrl, match=why):
        client.get(url)
    assert resolver.calls == []


def test_allowed_ports_are_configurable(server):
    server.page("/", "ok")
    resolver = StaticResolver({"shop.test": ["127.0.0.1"]})
    config = replace(CONFIG, allowed_ports=frozenset({server.port}))
    with SafeClient(config, resolver=resolver, obey_robots=False) as client:
        # the port passes now, so the refusal comes from the address check
        with pytest.raises(BlockedAddress):
            client.get(f"http://shop.test:{server.port}/")
        with pytest.raises(BlockedUrl, match="port 80"):
            client.get("http://shop.test/")


# --- the address policy on its own ------------------------------------------------------------


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]
)
def test_public_addresses_pass_the_policy(address):
    assert address_block_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "host, expected",
    [
        ("2130706433", "127.0.0.1"), ("0x7f.1", "127.0.0.1"), ("017700000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"), ("10.1", "10.0.0.1"), ("0xA9.254.0xa9FE", "169.254.169.254"),
        ("1.2.3.4", "1.2.3.4"), ("[::1]", "::1"), ("0", "0.0.0.0"),  # noqa: S104
        ("example.com", None), ("256.1.1.1", None), ("1.2.3.4.5", None), ("08.1.1.1", None),
        ("4294967296", None), ("1.2.65536", None), ("0x", "0.0.0.0"), ("1e3", None),  # noqa: S104
    ],
)
def test_ip_literals_are_read_like_inet_aton(host, expected):
    parsed = parse_ip_literal(host)
    assert (str(parsed) if parsed else None) == expected


# --- redirects ------------------------------------------------------------------------------


def test_redirects_are_followed_and_recorded(server):
    server.redirect("/a", "/b")
    server.redirect("/b", server.url("/c"), status=301)
    server.page("/c", "end")
    with client_for(server) as client:
        response = client.get(server.url("/a"))
    assert response.text == "end" and response.url == server.url("/a")
    assert response.final_url == server.url("/c")
    assert response.redirects == (Hop(server.url("/a"), 302), Hop(server.url("/b"), 301))


@pytest.mark.parametrize(
    "location",
    ["http://127.0.0.2:{port}/", "http://169.254.169.254/latest/meta-data/", "http://[::ffff:127.0.0.1]:{port}/",
     "http://0x7f.1:{port}/", "http://evil.test/", "file:///etc/passwd"],
)
def test_every_redirect_hop_is_checked_again(server, location):
    server.redirect("/hop", location.format(port=server.port))
    resolver = StaticResolver({"evil.test": ["127.0.0.1"]})
    with client_for(server, resolver=resolver) as client, pytest.raises(BlockedUrl):
        client.get(server.url("/hop"))
    assert server.paths() == ["/hop"]


def test_too_many_redirects_stop(server):
    server.redirect("/loop", "/loop")
    client = client_for(server, config=replace(CONFIG, max_redirects=3))
    with client, pytest.raises(TooManyRedirects, match="more than 3 redirects"):
        client.get(server.url("/loop"))
    assert server.paths() == ["/loop"] * 4


# --- size and time -----------------------------------------------------------------------------


def stream_then_hang(size: int, srv: LoopbackServer):
    """A chunked body of ``size`` bytes that then hangs until the test ends."""

    def handle(request) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "text/html")
        request.send_header("Transfer-Encoding", "chunked")
        request.end_headers()
        for _ in range(size // 1024):
            request.wfile.write(b"400\r\n" + b"x" * 1024 + b"\r\n")
        request.wfile.flush()
        srv.release.wait()

    return handle


def test_an_oversize_body_is_cut_while_streaming(server):
    # The body never ends: reading it all would hang until the read timeout, so TooLarge
    # (not Timeout) proves the client stopped at the cap.
    server.route("/big", stream_then_hang(CONFIG.max_bytes + 8192, server))
    client = client_for(server, config=replace(CONFIG, read_timeout=60))
    with client, pytest.raises(TooLarge, match=str(CONFIG.max_bytes)):
        client.get(server.url("/big"))


def test_a_declared_oversize_body_is_refused_from_its_length(server):
    server.page("/big", b"y" * (CONFIG.max_bytes + 1))
    with client_for(server) as client, pytest.raises(TooLarge, match=str(CONFIG.max_bytes + 1)):
        client.get(server.url("/big"))


def test_truncate_keeps_the_first_bytes(server):
    server.route("/big", stream_then_hang(CONFIG.max_bytes + 8192, server))
    with client_for(server, config=replace(CONFIG, read_timeout=60)) as client:
        response = client.get(server.url("/big"), max_bytes=5000, if_too_large="truncate")
    assert response.truncated is True and response.content == b"x" * 5000


def test_the_whole_fetch_has_one_deadline(server):
    server.redirect("/a", "/b")
    server.redirect("/b", "/c")
    server.page("/c", "late")
    ticks = iter(range(0, 1000, 7))  # a fake clock: every look at it is 7 s later
    client = client_for(server, config=replace(CONFIG, total_timeout=20), clock=lambda: next(ticks))
    with client, pytest.raises(Timeout, match="after 20 s"):
        client.get(server.url("/a"))
    assert server.paths() == ["/a", "/b"]


def test_a_silent_server_times_out(server):
    def hang(request) -> None:
        server.release.wait()

    server.route("/slow", hang)
    with client_for(server, config=replace(CONFIG, read_timeout=0.2)) as client, pytest.raises(Timeout):
        client.get(server.url("/slow"))


def test_connection_failures_are_fetch_errors():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again below: nothing listens there
    client = SafeClient(CONFIG, allow=[f"127.0.0.1:{port}"], obey_robots=False)
    with client, pytest.raises(FetchError, match="could not fetch") as failed:
        client.get(f"http://127.0.0.1:{port}/")
    assert not isinstance(failed.value, Timeout | BlockedUrl)


def test_non_success_statuses_are_answers_not_errors(server):
    server.page("/gone", "gone", status=410)
    with client_for(server) as client:
        assert client.get(server.url("/gone")).status_code == 410
        assert client.get(server.url("/missing")).status_code == 404


def test_the_charset_comes_from_the_header_or_the_meta_tag(server):
    server.page("/latin", "<p>café</p>".encode("latin-1"), content_type="text/html; charset=ISO-8859-1")
    meta = '<meta charset="windows-1252"><p>café</p>'.encode("cp1252")
    server.page("/meta", meta, content_type="text/html")
    with client_for(server) as client:
        assert "café" in client.get(server.url("/latin")).text
        assert "café" in client.get(server.url("/meta")).text


# --- robots.txt --------------------------------------------------------------------------------


ROBOTS = """
User-agent: *
Disallow: /private
Allow: /private/contact

User-agent: OtherBot
Disallow: /
"""


def test_robots_txt_is_honoured_and_fetched_once_per_site(server):
    server.page("/robots.txt", ROBOTS, content_type="text/plain")
    for path in ("/", "/about", "/private/contact", "/private"):
        server.page(path, path)
    with client_for(server, robots=True) as client:
        for path in ("/", "/about", "/private/contact"):
            assert client.get(server.url(path)).text == path
        with pytest.raises(RobotsDisallowed, match="robots.txt does not allow"):
            client.get(server.url("/private"))
    assert server.paths() == ["/robots.txt", "/", "/about", "/private/contact"]


def test_robots_txt_is_checked_on_every_hop(server):
    server.page("/robots.txt", ROBOTS, content_type="text/plain")
    server.redirect("/go", "/private/secret")
    with client_for(server, robots=True) as client, pytest.raises(RobotsDisallowed):
        client.get(server.url("/go"))
    assert "/private/secret" not in server.paths()


def test_a_group_naming_linkcrm_overrides_the_star_group(server):
    server.page("/robots.txt", "User-agent: *\nDisallow:\n\nUser-agent: LinkCRM\nDisallow: /\n")
    server.page("/", "home")
    with client_for(server, robots=True) as client, pytest.raises(RobotsDisallowed):
        client.get(server.url("/"))


def test_missing_robots_allows_and_a_failing_one_forbids(server):
    server.page("/", "home")
    with client_for(server, robots=True) as client:
        assert client.get(server.url("/")).text == "home"  # robots.txt is a 404 here
    server.page("/robots.txt", "oops", status=503)
    with client_for(server, robots=True) as client, pytest.raises(RobotsDisallowed, match="503"):
        client.get(server.url("/"))


def test_robots_can_be_ignored_for_checks_that_must_see_the_page(server):
    server.page("/robots.txt", "User-agent: *\nDisallow: /\n")
    server.page("/", "home")
    with client_for(server, robots=False) as client:
        assert client.get(server.url("/")).text == "home"
    assert server.paths() == ["/"]


@pytest.mark.parametrize(
    "path, allowed",
    [
        ("/", True), ("/shop", False), ("/shop/contact", True), ("/shop/contact-us", True),
        ("/page.pdf", False), ("/page.pdf?x=1", True), ("/a/tmp/b", False), ("/robots.txt", True),
        ("/caf%C3%A9", False), ("/search?q=1", False), ("/searching", True),
    ],
)
def test_robots_rules_longest_match_and_wildcards(path, allowed):
    rules = parse_robots(
        "# comment\nUser-agent: linkcrm\nUser-agent: other\nDisallow: /shop\nAllow: /shop/contact\n"
        "Disallow: /*.pdf$\nDisallow: /*/tmp/\nDisallow: /café\nDisallow: /search?\n"
        "Sitemap: https://example.com/sitemap.xml\n",
        "LinkCRM/1.0 (+tests)",
    )
    assert rules.allows(path) is allowed


def test_robots_allow_wins_a_tie():
    rules = parse_robots("User-agent: *\nDisallow: /page\nAllow: /page\n", "LinkCRM/1.0")
    assert rules.allows("/page") is True
