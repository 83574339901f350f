"""Contact discovery: reading addresses from pages, and a whole run against a loopback site.

The "site" is a real HTTP server on 127.0.0.1. Its name, northwind-gear.com, is resolved by
a StaticResolver to 127.0.0.1 and allowed for that one port only, so nothing leaves the
machine; MX answers come from StaticMx.
"""

from __future__ import annotations

import pytest

from linkcrm.lib.safehttp import SafeClient, SafeHttpConfig, StaticResolver
from prospects.choices import ContactSource, EmailStatus
from prospects.discovery import FoundEmail, discover, extract_emails, guess_role, rank
from prospects.models import Contact, Prospect
from prospects.mx import StaticMx
from prospects.services.contacts import contact_add, contacts_discover
from prospects.services.projects import project_create
from prospects.services.suppression import suppression_add
from tests.lib.loopback import LoopbackServer, serve

SITE = "northwind-gear.com"
SITES = frozenset({SITE})


def emails_in(html: str) -> list[str]:
    return [found.email for found in extract_emails(html, "https://northwind-gear.com/", sites=SITES)]


def cloudflare(email: str, key: int = 0x5A) -> str:
    """Encode an address the way Cloudflare's email protection does."""
    return f"{key:02x}" + "".join(f"{ord(char) ^ key:02x}" for char in email)


# --- reading one page ------------------------------------------------------------------------


def test_mailto_links_give_the_address_and_the_name_from_the_link_text():
    html = """<a href="mailto:Jane.Doe@Northwind-Gear.com?subject=Hello">Jane Doe</a>
              <a href="MAILTO:editor%40northwind-gear.com">Email us</a>
              <a href="mailto:a@northwind-gear.com,b@northwind-gear.com">both</a>"""
    found = extract_emails(html, "https://northwind-gear.com/contact", sites=SITES)
    assert [(f.email, f.name) for f in found] == [
        ("jane.doe@northwind-gear.com", "Jane Doe"), ("editor@northwind-gear.com", ""),
        ("a@northwind-gear.com", ""), ("b@northwind-gear.com", ""),
    ]
    assert found[0].source_url == "https://northwind-gear.com/contact"


def test_plain_addresses_and_html_entities():
    html = "<p>Write to press@northwind-gear.com.</p><p>info&#64;northwind-gear&#46;com</p>" \
           "<p>sales&#x40;northwind-gear.com, hello&commat;northwind-gear.com</p>"
    assert emails_in(html) == ["press@northwind-gear.com", "info@northwind-gear.com",
                               "sales@northwind-gear.com", "hello@northwind-gear.com"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("editor [at] northwind-gear [dot] com", "editor@northwind-gear.com"),
        ("editor (at) northwind-gear (dot) com", "editor@northwind-gear.com"),
        ("pitches(at)northwind-gear.com", "pitches@northwind-gear.com"),
        ("jane {at} northwind-gear {dot} co {dot} uk", "jane@northwind-gear.co.uk"),
        ("Jane AT northwind-gear DOT com", "jane@northwind-gear.com"),
        ("ads[@]northwind-gear.com", "ads@northwind-gear.com"),
        ("info &lt;at&gt; northwind-gear &lt;dot&gt; com", "info@northwind-gear.com"),  # shown as <at>
    ],
)
def test_obfuscated_addresses_are_read(text, expected):
    assert emails_in(f"<p>{text}</p>") == [expected]


def test_prose_with_at_is_not_an_address():
    assert emails_in("<p>We met at northwind-gear.com and at the fair in Berlin dot matrix.</p>") == []


def test_cloudflare_protected_addresses_are_decoded():
    link = cloudflare("editor@northwind-gear.com")
    span = cloudflare("jane@northwind-gear.com", 0x13)
    html = f"""<a href="/cdn-cgi/l/email-protection#{link}">[email protected]</a>
               <span class="__cf_email__" data-cfemail="{span}">x</span>"""
    assert sorted(emails_in(html)) == ["editor@northwind-gear.com", "jane@northwind-gear.com"]


def test_asset_names_placeholders_and_no_reply_addresses_are_dropped():
    html = """<img src="/img/logo@2x.png" alt="logo@2x.png"><p>sprite@3x.webp hero@2x.jpg app@1.5x.js</p>
              <p>you@example.com name@yourdomain.com noreply@northwind-gear.com no-reply@northwind-gear.com
              root@localhost abc123@o12345.ingest.sentry.io</p>
              <script>var x = "hidden@northwind-gear.com";</script>
              <style>.a{content:"c@northwind-gear.com"}</style>"""
    assert emails_in(html) == []


def test_structured_data_is_read_but_scripts_are_not():
    html = """<script type="application/ld+json">
              {"@type": "Organization", "email": "hello@northwind-gear.com"}</script>"""
    assert emails_in(html) == ["hello@northwind-gear.com"]


def test_inline_markup_inside_an_address_is_joined_but_blocks_are_kept_apart():
    html = "<p>jane<span>@</span>northwind-gear.com</p><p>Contact</p><p>editor@northwind-gear.com</p>"
    assert emails_in(html) == ["jane@northwind-gear.com", "editor@northwind-gear.com"]


def test_each_address_once_whatever_its_case():
    html = """<a href="mailto:Editor@Northwind-Gear.com">Ed Itor</a>
              EDITOR@northwind-gear.com editor@northwind-gear.com"""
    found = extract_emails(html, "https://northwind-gear.com/", sites=SITES)
    assert [(f.email, f.name) for f in found] == [("editor@northwind-gear.com", "Ed Itor")]


def test_addresses_at_other_domains_are_kept_but_marked():
    found = extract_emails("<p>owner@gmail.com info@northwind-gear.com</p>", "https://x/", sites=SITES)
    assert [(f.email, f.on_domain) for f in found] == [
        ("owner@gmail.com", False), ("info@northwind-gear.com", True)
    ]


@pytest.mark.parametrize(
    "local, role, name",
    [
        ("editor", "Editor", ""), ("editorial", "Editor", ""), ("guestposts", "Contributions", ""),
        ("write-for-us", "Contributions", ""), ("press", "Press", ""),
        ("marketing", "Marketing & partnerships", ""),
        ("partnerships", "Marketing & partnerships", ""), ("info", "General", ""), ("hello", "General", ""),
        ("contact2", "General", ""), ("webmaster", "Webmaster", ""), ("support", "Support", ""),
        ("jobs", "Careers", ""), ("privacy", "Legal", ""), ("jane.doe", "Person", "Jane Doe"),
        ("mary-ann.smith", "Person", "Mary Ann Smith"), ("jd1987", "", ""),
    ],
)
def test_role_is_guessed_from_the_local_part(local, role, name):
    assert guess_role(local) == (role, name)


def test_ranking_puts_editors_and_people_first_and_other_domains_last():
    def found(email, role, on_domain=True):
        return FoundEmail(email=email, name="", role=role, source_url="", on_domain=on_domain)

    emails = [found("info@n.com", "General"), found("owner@gmail.com", "Editor", on_domain=False),
              found("support@n.com", "Support"), found("jane@n.com", "Person"),
              found("editor@n.com", "Editor")]
    assert [f.email for f in rank(emails)] == [
        "editor@n.com", "jane@n.com", "info@n.com", "support@n.com", "owner@gmail.com"
    ]


# --- a whole site ------------------------------------------------------------------------------

HOME = """<html><body>
<nav><a href="/">Home</a> <a href="/get-in-touch">Contact us</a> <a href="/our-story">About</a>
<a href="/private-team">Our team</a> <a href="https://elsewhere.com/contact">Partner contact</a>
<a href="/shop">Shop</a></nav>
<footer>info@northwind-gear.com</footer></body></html>"""
CONTACT = """<h1>Contact</h1><p>Pitches: editor [at] northwind-gear [dot] com</p>
<p><a href="mailto:jane.doe@northwind-gear.com">Jane Doe</a> runs partnerships.</p>
<p>Old shop: orders@oldshop-northwind.com</p>"""
ROBOTS = "User-agent: *\nDisallow: /private-team\n"


@pytest.fixture
def server():
    yield from serve()


@pytest.fixture
def site(server: LoopbackServer) -> LoopbackServer:
    server.page("/", HOME)
    server.page("/robots.txt", ROBOTS, content_type="text/plain")
    server.page("/get-in-touch", CONTACT)
    server.page("/our-story", "<p>Founded 1999. Questions? hello@northwind-gear.com</p>")
    server.page("/private-team", "<p>secret@northwind-gear.com</p>")
    return server


def client_for(server: LoopbackServer, **config) -> SafeClient:
    return SafeClient(SafeHttpConfig(user_agent="LinkCRM/1.0 (tests)", **config),
                      allow=[f"{SITE}:{server.port}"], resolver=StaticResolver({SITE: ["127.0.0.1"]}))


def start(server: LoopbackServer) -> str:
    return f"http://{SITE}:{server.port}/"


@pytest.fixture
def prospect(db, manager) -> Prospect:
    project = project_create(name="Shop", created_by=manager, members=[manager])
    return Prospect.objects.create(project=project, domain=SITE)


def test_a_run_reads_the_home_page_and_the_pages_it_links_to(site):
    report = discover(SITE, client_for(site), start_url=start(site), max_pages=3)
    assert site.paths() == ["/robots.txt", "/", "/get-in-touch", "/our-story"]
    assert [(p.url.rsplit("/", 1)[1], p.status, p.found) for p in report.pages] == [
        ("", 200, 1), ("get-in-touch", 200, 3), ("our-story", 200, 1)
    ]
    assert [f.email for f in report.emails] == [
        "editor@northwind-gear.com", "jane.doe@northwind-gear.com", "info@northwind-gear.com",
        "hello@northwind-gear.com", "orders@oldshop-northwind.com",
    ]


def test_robots_txt_keeps_the_run_off_disallowed_pages(site):
    report = discover(SITE, client_for(site), start_url=start(site), max_pages=20)
    assert "/private-team" not in site.paths()
    assert "secret@northwind-gear.com" not in [f.email for f in report.emails]
    refused = [p for p in report.pages if p.url.endswith("/private-team")]
    assert refused and "robots.txt" in refused[0].error
    assert site.paths().count("/robots.txt") == 1  # cached for the run


def test_the_usual_paths_are_tried_and_missing_ones_recorded(server):
    server.page("/", "<p>nothing here</p>")
    server.page("/write-for-us", "<p>Send drafts to guest@northwind-gear.com</p>")
    report = discover(SITE, client_for(server), start_url=start(server), max_pages=20)
    assert [f.email for f in report.emails] == ["guest@northwind-gear.com"]
    assert "/contact" in server.paths() and "/impressum" in server.paths()
    assert any(p.url.endswith("/contact") and p.status == 404 and p.error == "HTTP 404" for p in report.pages)


def test_an_unreachable_site_is_a_report_not_an_exception():
    # loopback, and no allowance: every guess is refused
    resolver = StaticResolver({SITE: ["127.0.0.1"], f"www.{SITE}": ["10.0.0.8"]})
    report = discover(SITE, SafeClient(SafeHttpConfig(), resolver=resolver), max_pages=5)
    assert [p.url for p in report.pages] == [
        "https://northwind-gear.com/", "https://www.northwind-gear.com/", "http://northwind-gear.com/"
    ]
    assert all(p.status is None and "refused" in p.error for p in report.pages)
    assert report.emails == []


def test_a_redirect_to_the_metadata_address_is_refused_mid_run(server):
    server.page("/", '<a href="/contact-us">Contact</a>')
    server.redirect("/contact-us", "http://169.254.169.254/latest/meta-data/")
    report = discover(SITE, client_for(server), start_url=start(server), max_pages=2)
    refused = [p for p in report.pages if p.url.endswith("/contact-us")]
    assert refused[0].status is None and "169.254.169.254" in refused[0].error


def test_a_huge_page_is_read_up_to_the_cap(server):
    server.page("/", "<p>editor@northwind-gear.com</p>" + "x" * 50_000 + "<p>late@northwind-gear.com</p>")
    report = discover(SITE, client_for(server, max_bytes=10_000), start_url=start(server), max_pages=1)
    assert [f.email for f in report.emails] == ["editor@northwind-gear.com"]


# --- the service: found addresses become contacts ---------------------------------------------


def test_discovered_addresses_become_contacts_with_role_source_and_mx_status(site, prospect):
    mx = StaticMx({"oldshop-northwind.com": False})
    result = contacts_discover(prospect_id=prospect.pk, client=client_for(site), mx=mx,
                               start_url=start(site), max_pages=3)
    contacts = {c.email: c for c in Contact.objects.filter(prospect=prospect)}
    assert result.added == [
        "editor@northwind-gear.com", "jane.doe@northwind-gear.com", "info@northwind-gear.com",
        "hello@northwind-gear.com", "orders@oldshop-northwind.com",
    ]
    editor = contacts["editor@northwind-gear.com"]
    assert (editor.role, editor.source, editor.email_status, editor.is_primary) == (
        "Editor", ContactSource.DISCOVERED, EmailStatus.VALID, True)
    assert editor.source_url == f"http://{SITE}:{site.port}/get-in-touch"
    assert (contacts["jane.doe@northwind-gear.com"].name, contacts["jane.doe@northwind-gear.com"].role) == (
        "Jane Doe", "Person")
    assert contacts["orders@oldshop-northwind.com"].email_status == EmailStatus.NO_MX
    assert sum(c.is_primary for c in contacts.values()) == 1
    assert sorted(set(mx.calls)) == ["northwind-gear.com", "oldshop-northwind.com"]


def test_known_and_suppressed_addresses_are_reported_not_added(site, prospect):
    contact_add(prospect=prospect, email="Info@Northwind-Gear.com")
    suppression_add(project=prospect.project, value="jane.doe@northwind-gear.com")
    suppression_add(project=None, value="oldshop-northwind.com")
    result = contacts_discover(prospect_id=prospect.pk, client=client_for(site), mx=StaticMx({}),
                               start_url=start(site), max_pages=3)
    assert result.existing == ["info@northwind-gear.com"]
    assert result.suppressed == ["jane.doe@northwind-gear.com", "orders@oldshop-northwind.com"]
    assert sorted(Contact.objects.filter(prospect=prospect).values_list("email", flat=True)) == [
        "editor@northwind-gear.com", "hello@northwind-gear.com", "info@northwind-gear.com"
    ]


def test_a_suppressed_domain_is_not_even_visited(site, prospect):
    suppression_add(project=prospect.project, value=SITE)
    result = contacts_discover(prospect_id=prospect.pk, client=client_for(site), mx=StaticMx({}),
                               start_url=start(site))
    assert "do-not-contact" in result.error
    assert site.requests == [] and not Contact.objects.exists()


def test_a_prospect_deleted_before_the_run_is_reported(db):
    assert contacts_discover(prospect_id=999_999).error == "The prospect no longer exists."
