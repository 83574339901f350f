"""The link check's protocol code: URL keys, HTML parsing edge cases, one page's outcome."""

from __future__ import annotations

import pytest

from prospects.choices import LinkStatus
from prospects.linkcheck import (
    TargetSet,
    best_link,
    check_page,
    parse_page,
    resolve_targets,
    url_key,
)
from tests.lib.loopback import serve
from tests.prospects.monitoring_world import BLOG, OURS, make_client

PAGE = "https://blog.example/2024/gear/post.html"
TARGETS = TargetSet(keys=frozenset({url_key("https://shop.example/tents")}))


@pytest.fixture
def server():
    yield from serve()


# --- URL keys ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://shop.example/tents",
        "HTTPS://SHOP.EXAMPLE/tents",
        "https://www.shop.example/tents/",
        "http://shop.example:80/tents",
        "https://shop.example:443/tents#reviews",
        "http://shop.example./tents",
    ],
)
def test_spellings_of_one_page_have_one_key(url):
    assert url_key(url) == "shop.example/tents"


@pytest.mark.parametrize(
    "url, key",
    [
        ("https://shop.example", "shop.example/"),
        ("https://shop.example:8443/tents", "shop.example:8443/tents"),
        ("https://shop.example/tents?color=red", "shop.example/tents?color=red"),
        ("https://bücher.example/", "xn--bcher-kva.example/"),
        ("https://shop.example/Tents", "shop.example/Tents"),  # paths are case-sensitive
    ],
)
def test_what_still_tells_pages_apart(url, key):
    assert url_key(url) == key


@pytest.mark.parametrize("url", ["ftp://shop.example/x", "mailto:a@shop.example", "/relative", "https://"])
def test_non_http_urls_have_no_key(url):
    assert url_key(url) is None


# --- parsing -----------------------------------------------------------------------------------------


def test_relative_hrefs_resolve_against_the_page_or_its_base():
    page = parse_page('<a href="../tents">a</a>', "https://shop.example/blog/post")
    assert page.links[0].href == "https://shop.example/tents"
    page = parse_page('<base href="https://shop.example/"><a href="tents">b</a>', PAGE)
    assert page.links[0].href == "https://shop.example/tents" and page.base_href == "https://shop.example/"


def test_links_in_comments_and_scripts_do_not_count():
    html = (
        '<!-- <a href="https://shop.example/tents">old</a> -->'
        "<script>document.write('<a href=\"https://shop.example/tents\">js</a>')</script>"
        "<p>no link here</p>"
    )
    assert parse_page(html, PAGE).links == []


def test_anchor_text_is_collapsed_and_an_image_gives_its_alt():
    html = (
        '<a href="https://shop.example/tents">  Best\n <em>tents</em>  &amp; more </a>'
        '<a href="https://shop.example/tents"><img src="logo.png" alt="Shop logo"></a>'
    )
    assert [link.anchor for link in parse_page(html, PAGE).links] == ["Best tents & more", "Shop logo"]


def test_entities_in_hrefs_are_decoded():
    page = parse_page('<a href="https://shop.example/tents?a=1&amp;b=2">x</a>', PAGE)
    assert page.links[0].href == "https://shop.example/tents?a=1&b=2"


def test_rel_tokens_are_read_in_any_case_and_order():
    page = parse_page('<a href="https://shop.example/tents" rel="Sponsored noopener NOFOLLOW">x</a>', PAGE)
    assert page.links[0].flags == ("nofollow", "sponsored")
    assert not page.links[0].follow


def test_unclosed_and_nested_anchors_end_where_a_browser_ends_them():
    html = '<a href="https://shop.example/a">first <a href="https://shop.example/b">second'
    links = parse_page(html, PAGE).links
    assert [(link.href, link.anchor) for link in links] == [
        ("https://shop.example/a", "first"),
        ("https://shop.example/b", "second"),
    ]


def test_meta_robots_and_canonical():
    html = '<meta name="ROBOTS" content="noarchive, NoIndex"><link rel="canonical" href="/canonical-post">'
    page = parse_page(html, PAGE)
    assert page.noindex and page.canonical == "https://blog.example/canonical-post"
    assert not parse_page('<meta name="robots" content="index, follow">', PAGE).noindex


def test_javascript_mailto_and_fragment_links_are_ignored():
    html = '<a href="javascript:go()">x</a><a href="mailto:a@b.example">y</a><a href="#top">z</a><a>no href</a>'
    assert parse_page(html, PAGE).links == []


def test_a_followed_link_counts_before_a_nofollow_one():
    html = (
        '<a href="https://shop.example/tents" rel="nofollow">first</a>'
        '<a href="https://www.shop.example/tents/">second</a><a href="https://other.example/">x</a>'
    )
    link, count = best_link(parse_page(html, PAGE).links, TARGETS)
    assert (link.anchor, count) == ("second", 2)


def test_without_target_pages_any_page_of_the_site_counts():
    targets = TargetSet(domain="shop.com")
    assert targets.matches("https://blog.shop.com/anything")
    assert not targets.matches("https://shop.com.evil.com/")


# --- one page over HTTP --------------------------------------------------------------------------------


def fetch(server, html, targets=None, **kwargs):
    server.page("/post", html, **kwargs)
    with make_client(server) as client:
        return check_page(server.url("/post", host=BLOG), targets or TargetSet(domain=OURS), client=client)


def test_an_x_robots_tag_header_is_recorded(server):
    result = fetch(server, f'<a href="https://{OURS}/">us</a>', headers={"X-Robots-Tag": "noindex, nofollow"})
    assert (result.outcome, result.noindex, result.noindex_source) == (LinkStatus.ACTIVE, True, "header")


def test_a_non_html_page_has_no_link(server):
    result = fetch(server, "%PDF-1.4", content_type="application/pdf")
    assert result.outcome == LinkStatus.LOST and "not an HTML page" in result.error


def test_a_rate_limited_page_is_undefined_and_a_server_error_broken(server):
    assert fetch(server, "slow down", status=429).outcome == LinkStatus.UNDEFINED
    result = fetch(server, "oops", status=503)
    assert (result.outcome, result.http_status) == (LinkStatus.BROKEN, 503)


def test_a_page_cut_at_the_size_cap_without_the_link_is_undefined(server):
    html = "<p>" + "filler " * 400 + "</p>" + f'<a href="https://{OURS}/">us</a>'
    server.page("/post", html)
    with make_client(server, max_bytes=1024) as client:
        result = check_page(server.url("/post", host=BLOG), TargetSet(domain=OURS), client=client)
    assert result.outcome == LinkStatus.UNDEFINED


def test_the_page_redirect_is_followed_and_its_final_url_kept(server):
    server.redirect("/post", server.url("/moved", host=BLOG), status=301)
    server.page("/moved", f'<a href="https://{OURS}/">us</a>')
    with make_client(server) as client:
        result = check_page(server.url("/post", host=BLOG), TargetSet(domain=OURS), client=client)
    assert (result.outcome, result.final_url) == (LinkStatus.ACTIVE, server.url("/moved", host=BLOG))


def test_a_target_that_cannot_be_fetched_keeps_its_own_address(server):
    broken = server.url("/missing", host=OURS)
    with make_client(server) as client:
        targets = resolve_targets([broken, "https://vanished.example/"], client=client)
    assert targets.keys == {url_key(broken), "vanished.example/"}
