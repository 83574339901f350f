"""A small, known link world for the gap tests, loaded through the real audit loader.

Sites: ``shop.com`` (the project's own), competitors ``alpha.com`` and ``beta.com``.
Referring domains (links per site; "nf" nofollow; authority is the Semrush domain score):

| domain     | shop | alpha | beta | authority | notes                                  |
|------------|------|-------|------|-----------|----------------------------------------|
| best1.org  |      | 2     | 1    | 50        | Best                                   |
| best2.org  |      | 1     | 3    | 70        | Best (via www. and a subdomain)        |
| one.org    |      | 1     |      | 10        | Missing N=1, Unique                    |
| weak.org   | 1    | 3     | 1    | 40        | Weak (1 < 3), Shared                   |
| even.org   | 2    | 2     |      | 30        | not Weak (2 = 2)                       |
| mine.org   | 2    |       |      | 20        | Strong, Unique                         |
| nf.net     |      |       | 4 nf | 60        | Missing N=1, Unique; no follow link    |
| toxic.org  |      | 1     | 1    | 80        | Best, one link Ahrefs-flagged spam     |
| lost.org   |      | 1 lost| 1    | 15        | alpha's link is lost: Missing, Unique  |

Country comes from a referring-domains export (Semrush) for best1.org (de) and one.org (fr).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from audit.choices import ImportFormat, ImportKind, ImportStatus, Provider
from audit.importers.base import BacklinkRow, RefDomainRow
from audit.loading import LoadLimits, LoadResult, LoadTarget, ProgressReporter, load_rows
from audit.models import LinkImport, Site
from audit.services import site_get_or_create
from prospects.models import Project, ProjectCompetitor

TODAY = dt.date(2025, 6, 1)


class _Quiet(ProgressReporter):
    def publish(self, **counts: int) -> bool:
        return False


def load(site: Site, rows: Iterable[BacklinkRow | RefDomainRow], *, kind: ImportKind = ImportKind.BACKLINKS,
         provider: Provider = Provider.SEMRUSH) -> None:  # fmt: skip
    """One import through the loader, as link_import_run runs it (minus the file)."""
    fmt = ImportFormat.SEMRUSH_BACKLINKS if kind == ImportKind.BACKLINKS else ImportFormat.SEMRUSH_REFDOMAINS
    link_import = LinkImport.objects.create(
        site=site, file_name="rows", format=fmt, kind=kind, full_snapshot=False, status=ImportStatus.RUNNING
    )
    target = LoadTarget(
        import_id=link_import.id, site_id=site.id, kind=kind, provider=provider, full_snapshot=False,
        import_date=TODAY,
    )  # fmt: skip
    with transaction.atomic():
        load_rows(target, list(rows), result=LoadResult(), bytes_read=lambda: 0,
                  progress=_Quiet(link_import.id, interval=3600), limits=LoadLimits())  # fmt: skip


def links(
    site: str, host: str, count: int, *, authority: int, start: int = 0, **fields: object
) -> list[BacklinkRow]:
    """``count`` links from pages of ``host`` to ``site``'s home page."""
    return [
        BacklinkRow(
            line=n + 2, source_url=f"https://{host}/page-{n}", target_url=f"https://{site}/",
            anchor=str(fields.get("anchor", f"anchor {n}")), source_title=str(fields.get("title", "A page")),
            nofollow=bool(fields.get("nofollow", False)),
            first_seen=str(fields.get("first_seen", "2025-01-01")), last_seen="2025-05-01",
            lost_at=fields.get("lost_at"), domain_authority=authority,  # type: ignore[arg-type]
            is_spam=fields.get("is_spam"), toxic_score=fields.get("toxic_score"),  # type: ignore[arg-type]
        )
        for n in range(start, start + count)
    ]  # fmt: skip


@dataclass(frozen=True)
class World:
    project: Project
    shop: Site
    alpha: Site
    beta: Site


def build(project: Project) -> World:
    shop, alpha, beta = (site_get_or_create(domain_or_url=d) for d in ("shop.com", "alpha.com", "beta.com"))
    Project.objects.filter(id=project.id).update(site=shop)
    project.refresh_from_db()
    for site in (alpha, beta):
        ProjectCompetitor.objects.create(project=project, site=site)
    load(shop, [
        *links("shop.com", "weak.org", 1, authority=40),
        *links("shop.com", "even.org", 2, authority=30),
        *links("shop.com", "mine.org", 2, authority=20),
    ])  # fmt: skip
    load(alpha, [
        *links("alpha.com", "best1.org", 2, authority=50, anchor="hiking boots review"),
        *links("alpha.com", "www.best2.org", 1, authority=70),
        *links("alpha.com", "one.org", 1, authority=10),
        *links("alpha.com", "weak.org", 3, authority=40),
        *links("alpha.com", "even.org", 2, authority=30),
        *links("alpha.com", "toxic.org", 1, authority=80, is_spam=True),
        *links("alpha.com", "lost.org", 1, authority=15, lost_at="2025-03-01"),
    ])  # fmt: skip
    load(beta, [
        *links("beta.com", "best1.org", 1, authority=50, first_seen="2024-06-01"),
        *links("beta.com", "blog.best2.org", 3, authority=70),
        *links("beta.com", "weak.org", 1, authority=40),
        *links("beta.com", "nf.net", 4, authority=60, nofollow=True),
        *links("beta.com", "toxic.org", 1, authority=80),
        *links("beta.com", "lost.org", 1, authority=15),
    ])  # fmt: skip
    countries = [
        RefDomainRow(line=2, domain="best1.org", country="de"),
        RefDomainRow(line=3, domain="one.org", country="fr"),
    ]
    load(alpha, countries, kind=ImportKind.REFDOMAINS)
    return World(project, shop, alpha, beta)
