"""Helpers for loader tests: run one load, and snapshot the audit tables to compare."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import connection, transaction

from audit.choices import ImportFormat, ImportKind, ImportStatus, Provider
from audit.importers.base import BacklinkRow, LineError, RefDomainRow
from audit.loading import LoadLimits, LoadResult, LoadTarget, ProgressReporter, load_rows
from audit.models import LinkImport, Site

FORMAT_OF = {
    (Provider.SEMRUSH, ImportKind.BACKLINKS): ImportFormat.SEMRUSH_BACKLINKS,
    (Provider.AHREFS, ImportKind.BACKLINKS): ImportFormat.AHREFS_BACKLINKS,
    (Provider.GSC, ImportKind.BACKLINKS): ImportFormat.GSC_SAMPLE_LINKS,
    (Provider.SEMRUSH, ImportKind.REFDOMAINS): ImportFormat.SEMRUSH_REFDOMAINS,
    (Provider.AHREFS, ImportKind.REFDOMAINS): ImportFormat.AHREFS_REFDOMAINS,
    (Provider.GSC, ImportKind.REFDOMAINS): ImportFormat.GSC_TOP_SITES,
}


def load(
    site: Site,
    rows: Iterable[BacklinkRow | RefDomainRow | LineError],
    *,
    provider: Provider = Provider.SEMRUSH,
    kind: ImportKind = ImportKind.BACKLINKS,
    full_snapshot: bool = True,
    on: dt.date = dt.date(2025, 6, 1),
    limits: LoadLimits | None = None,
) -> LoadResult:
    """One load in its own atomic block, as link_import_run does it (minus the file)."""
    link_import = LinkImport.objects.create(
        site=site, file_name="rows", format=FORMAT_OF[(provider, kind)], kind=kind,
        full_snapshot=full_snapshot, status=ImportStatus.RUNNING,
    )  # fmt: skip
    target = LoadTarget(
        import_id=link_import.id, site_id=site.id, kind=kind, provider=provider,
        full_snapshot=full_snapshot, import_date=on,
    )  # fmt: skip
    result = LoadResult()
    progress = ProgressReporter(link_import.id, interval=3600)
    try:
        with transaction.atomic():
            load_rows(
                target,
                rows,
                result=result,
                bytes_read=lambda: 0,
                progress=progress,
                limits=limits or LoadLimits(),
            )
    finally:
        progress.close()
    return result


def link(n: int, *, site: str = "example.com", line: int | None = None, **fields: object) -> BacklinkRow:
    """Backlink number ``n`` from its own page on referring domain ``ref{n % 3}.org``."""
    values: dict[str, object] = {
        "line": line if line is not None else n + 1,
        "source_url": f"https://blog.ref{n % 3}.org/post-{n}",
        "target_url": f"https://{site}/",
        "anchor": f"anchor {n}",
        "first_seen": "2024-01-01",
        "last_seen": "2025-05-01",
        "page_authority": 10 + n,
    }
    values.update(fields)
    return BacklinkRow(**values)  # type: ignore[arg-type]


AUDIT_TABLES = ("audit_site", "audit_backlink", "audit_refdomain")


def snapshot(*, with_xmin: bool = False) -> dict[str, list[tuple]]:
    """Every row of the audit data tables (with each row's xmin when asked), in id order."""
    tables: dict[str, list[tuple]] = {}
    with connection.cursor() as cursor:
        for table in AUDIT_TABLES:
            xmin = "xmin::text, " if with_xmin else ""
            cursor.execute(f"SELECT {xmin}t::text FROM {table} t ORDER BY id")  # noqa: S608
            tables[table] = cursor.fetchall()
    return tables


SEMRUSH_HEADER = (
    "Page ascore,Source title,Source url,Target url,Anchor,External links,Internal links,Nofollow,Sponsored,"
    "Ugc,Text,Frame,Form,Image,Sitewide,First seen,Last seen,New link,Lost link"
)


def semrush_line(n: int, *, site: str = "example.com", anchor: str | None = None) -> str:
    """One Semrush Backlinks data line: link ``n`` from ``https://ref{n % 5}.org/page-{n}``."""
    return (
        f"{n % 90},Page {n},https://ref{n % 5}.org/page-{n},https://{site}/,{anchor or f'anchor {n}'},"
        "3,10,false,false,false,true,false,false,false,false,2024-01-01,2025-05-01,false,false"
    )


def semrush_csv(
    count: int, *, start: int = 0, site: str = "example.com", extra: tuple[str, ...] = ()
) -> bytes:
    """A Semrush Backlinks export of ``count`` links (numbered from ``start``), then ``extra`` lines."""
    lines = [SEMRUSH_HEADER, *(semrush_line(n, site=site) for n in range(start, start + count)), *extra]
    return ("\n".join(lines) + "\n").encode()
