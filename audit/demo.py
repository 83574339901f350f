"""Demo link profiles: a site and two competitors, imported through the real import path.

``load()`` generates a seeded Semrush Backlinks export per site (audit.synthetic) and runs
it through ``link_import_store`` + ``link_import_run`` exactly as an upload would go, so
the demo shows what the product does with a real file. The domains are FAKE names on the
real ``.com`` TLD (``.test``/``.example`` have no registrable domain, so they cannot
stand in for a site); nobody owns them as far as this project is concerned, and nothing
ever connects to them. The competitors share part of their referring domains with the
site, so a link gap exists.
"""

from __future__ import annotations

import io
import logging

from django.core.files.base import ContentFile

from audit import demo_audit
from audit.choices import ImportStatus
from audit.models import Site
from audit.services import link_import_run, link_import_store, site_get_or_create
from audit.synthetic import SiteProfile, write_semrush_backlinks

logger = logging.getLogger(__name__)

DEMO_SITE = SiteProfile()  # northwind-outdoor.com
COMPETITORS = (
    SiteProfile(
        domain="trailcraft-gear.com", brand="TrailCraft",
        money_terms=("hiking boots", "trekking poles", "backpacks"),
    ),
    SiteProfile(
        domain="summitline-supply.com", brand="Summitline Supply",
        money_terms=("camping tents", "sleeping bags", "waterproof jackets"),
    ),
)  # fmt: skip


def load(*, links_per_site: int = 3000, seed: int = 7) -> list[Site]:
    """Creates the demo site and its competitors with their imported profiles; idempotent.

    A site that already has a succeeded import is left as it is. Returns [site, *competitors].
    """
    sites = []
    for position, profile in enumerate((DEMO_SITE, *COMPETITORS)):
        site = site_get_or_create(domain_or_url=profile.domain)
        Site.objects.filter(id=site.id).update(
            brand_terms=[profile.brand], money_terms=list(profile.money_terms)
        )
        if not site.imports.filter(status=ImportStatus.SUCCEEDED).exists():
            _import_profile(site, profile, links=links_per_site, seed=seed + position, position=position)
        site.refresh_from_db()
        sites.append(site)
    demo_audit.load(sites)  # toxicity scores, review decisions, disavow history
    return sites


def _import_profile(site: Site, profile: SiteProfile, *, links: int, seed: int, position: int) -> None:
    text = io.StringIO(newline="")
    # Overlapping ranges of the synthetic domain universe: competitors share some referrers.
    offset = 1 + position * links // 8
    write_semrush_backlinks(text, rows=links, seed=seed, site=profile, domain_offset=offset)
    upload = ContentFile(text.getvalue().encode(), name=f"{profile.domain}-backlinks.csv")
    link_import = link_import_store(site=site, uploaded_file=upload, created_by=None)
    link_import = link_import_run(import_id=link_import.id)
    if link_import.status != ImportStatus.SUCCEEDED:
        logger.error("demo import for %s %s: %s", site.domain, link_import.status, link_import.error)
