"""Small, exactly known link profiles for the profile tests (rows written directly, no importer)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date
from typing import Any

from audit.models import Backlink, RefDomain, Site
from linkcrm.lib.domains import host_of_url, registrable_domain


def url_key(source_url: str, target_url: str) -> uuid.UUID:
    """The model's key: md5(source_url || newline || target_url) as a uuid."""
    return uuid.UUID(hashlib.md5(f"{source_url}\n{target_url}".encode()).hexdigest())  # noqa: S324


def link(site: Site, source_url: str, target_url: str = "", **fields: Any) -> Backlink:
    """One backlink of ``site``; target defaults to the site's home page."""
    target_url = target_url or f"https://{site.domain}/"
    host = host_of_url(source_url)
    return Backlink.objects.create(
        site=site, url_key=url_key(source_url, target_url), source_url=source_url, source_host=host,
        source_domain=registrable_domain(host), target_url=target_url, **fields,
    )


def refdomain(site: Site, domain: str, **fields: Any) -> RefDomain:
    tld = fields.pop("tld", domain.split(".", 1)[1] if "." in domain else "")
    return RefDomain.objects.create(site=site, domain=domain, tld=tld, **fields)


def acme_world() -> Site:
    """acme.com with 6 links (5 live, 1 lost) from 4 domains; numbers the tests assert exactly.

    links (source domain, anchor, type/rel, first_seen, lost_at, target):
      blog.one.com   "Acme"              text follow    2024-01-03           /
      one.com        "blue widgets"      text nofollow  2024-01-10           /widgets
      two.org        "click here"        text ugc       2024-01-10           /widgets
      two.org        ""                  image follow   2024-02-05           /
      three.co.uk    "https://acme.com"  text sponsored 2024-02-06           /
      four.de        "acme widgets"      text follow    2024-01-04  2024-02-20 (lost) /widgets
    """
    site = Site.objects.create(domain="acme.com", brand_terms=["Acme"], money_terms=["blue widgets"])
    home, widgets = "https://acme.com/", "https://acme.com/widgets"
    link(site, "https://blog.one.com/a", home, anchor="Acme", first_seen=date(2024, 1, 3))
    link(site, "https://one.com/b", widgets, anchor="blue widgets", nofollow=True,
         first_seen=date(2024, 1, 10))
    link(site, "https://two.org/c", widgets, anchor="click here", ugc=True, first_seen=date(2024, 1, 10))
    link(site, "https://two.org/d", home, anchor="", link_type="image", first_seen=date(2024, 2, 5))
    link(site, "https://three.co.uk/e", home, anchor="https://acme.com", sponsored=True,
         first_seen=date(2024, 2, 6))
    link(site, "https://four.de/f", widgets, anchor="acme widgets", first_seen=date(2024, 1, 4),
         lost_at=date(2024, 2, 20))
    refdomain(site, "one.com", backlinks=2, follow_backlinks=1, semrush_ascore=45, ahrefs_dr=30,
              ip="192.0.2.10", country="us", first_seen=date(2024, 1, 3))
    refdomain(site, "two.org", backlinks=2, follow_backlinks=1, semrush_ascore=100, ip="192.0.2.200",
              country="de", first_seen=date(2024, 1, 10))
    refdomain(site, "three.co.uk", tld="co.uk", backlinks=1, follow_backlinks=0, semrush_ascore=5,
              ip="198.51.100.7", country="gb", first_seen=date(2024, 2, 6))
    refdomain(site, "four.de", backlinks=0, follow_backlinks=0, semrush_ascore=47, ip="192.0.2.33",
              country="de", first_seen=date(2024, 1, 4), lost_at=date(2024, 2, 20))
    return site
