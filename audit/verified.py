"""Links LinkCRM saw with its own eyes: the link monitor records them in the site's profile.

``backlink_record_verified`` upserts one ``Backlink`` of the site (key: md5(source_url ||
newline || target_url), the loader's ``url_key``) with the ``verified`` provider bit, today as
``last_seen`` and the anchor/rel the check read; a link the providers already reported keeps
their data and gains the bit. ``backlink_mark_verified_lost`` dates the loss of a link we had
verified. Both recount the referring domain with the loader's recount, as an import does.
An audit service: prospects calls it, audit never imports prospects.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import F

from audit.choices import PROVIDER_BIT, Provider
from audit.loading import refdomains_recount, url_key
from audit.models import Backlink
from linkcrm.lib.domains import DomainError, host_of_url, registrable_domain

VERIFIED_BIT = PROVIDER_BIT[Provider.VERIFIED]


@dataclass(frozen=True)
class VerifiedLink:
    """A link a check found live: the page it is on, where it points, and how."""

    source_url: str
    target_url: str
    anchor: str = ""
    nofollow: bool = False
    sponsored: bool = False
    ugc: bool = False
    http_status: int | None = None


def backlink_url_key(source_url: str, target_url: str) -> uuid.UUID:
    """The loader's key of a link: md5(source_url || '\\n' || target_url) as a uuid."""
    return uuid.UUID(url_key(source_url, target_url))


@transaction.atomic
def backlink_record_verified(*, site_id: int, link: VerifiedLink, seen_on: date) -> Backlink:
    """Insert or refresh the site's Backlink for ``link`` with the verified bit; returns it.

    Raises ``DomainError`` when the source URL has no usable host.
    """
    host = host_of_url(link.source_url)
    domain = registrable_domain(host)
    key = backlink_url_key(link.source_url, link.target_url)
    fields = {
        "anchor": link.anchor,
        "nofollow": link.nofollow,
        "sponsored": link.sponsored,
        "ugc": link.ugc,
        "http_status": link.http_status,
        "last_seen": seen_on,
        "lost_at": None,
    }
    backlink, created = Backlink.objects.select_for_update().get_or_create(
        site_id=site_id,
        url_key=key,
        defaults={
            **fields,
            "source_url": link.source_url,
            "source_host": host,
            "source_domain": domain,
            "target_url": link.target_url,
            "first_seen": seen_on,
            "providers": VERIFIED_BIT,
        },
    )
    if not created:
        for name, value in fields.items():
            setattr(backlink, name, value)
        backlink.providers |= VERIFIED_BIT
        backlink.save(update_fields=[*fields, "providers", "updated_at"])
    refdomains_recount(site_id=site_id, domains=[domain])
    return backlink


@transaction.atomic
def backlink_mark_verified_lost(*, site_id: int, source_url: str, target_url: str, lost_on: date) -> bool:
    """Date the loss of a link we verified; False when the site holds no such verified link."""
    key = backlink_url_key(source_url, target_url)
    rows = Backlink.objects.filter(site_id=site_id, url_key=key, lost_at__isnull=True)
    rows = rows.annotate(verified=F("providers").bitand(VERIFIED_BIT)).filter(verified__gt=0)
    changed = rows.update(lost_at=lost_on) == 1
    if changed:
        try:
            domain = registrable_domain(host_of_url(source_url))
        except DomainError:
            return changed
        refdomains_recount(site_id=site_id, domains=[domain])
    return changed
