"""Writes for audit: sites and link imports. Every function owns its transaction.

CONTRACT (signatures are fixed, other code calls them):

    site_get_or_create(*, domain_or_url: str) -> Site
    link_import_create(*, site: Site, uploaded_file: UploadedFile | File, created_by: User | None,
                       column_mapping: dict[str, str] | None = None,
                       full_snapshot: bool | None = None) -> LinkImport
        Stores the file, reads only its header to detect the format (raises ImportRefused with a
        clear message when the header is unknown and no column_mapping is given), and enqueues
        the background task on commit.
    link_import_run(*, import_id: int) -> LinkImport
        Does the import (called by the django-q2 task and by `manage.py import_links`).
    link_import_cancel(*, link_import: LinkImport) -> None
    link_import_from_semrush_api(*, site: Site, created_by: User | None, limit: int) -> LinkImport

Also ``link_import_store`` (link_import_create without the enqueueing, for the command line).

How a run stays atomic yet observable: the status goes queued → running in its own short
transaction; the whole load then runs in ONE transaction that also writes the final
succeeded row, so data and outcome commit together. Progress and the cancel flag travel
over a separate autocommit connection (audit.loading.ProgressReporter). On any failure
the transaction rolls back and the outcome (failed / cancelled, message, row errors) is
written afterwards with a guarded update.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.db import DatabaseError, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django_q.tasks import async_task

from audit import toxicity
from audit.choices import ImportFormat, ImportKind, ImportStatus, Provider
from audit.importers.base import (
    BacklinkRow,
    FormatSpec,
    ImportRefused,
    LineError,
    RefDomainRow,
    site_root_url,
)
from audit.loading import (
    ImportCancelled,
    LoadLimits,
    LoadResult,
    LoadTarget,
    ProgressReporter,
    load_rows,
)
from audit.models import LinkImport, Site
from linkcrm.lib import domains

logger = logging.getLogger(__name__)

RUN_TASK = "audit.tasks.link_import_run_task"
CANCELLED_MESSAGE = "cancelled on request; nothing was imported"


# --- sites -------------------------------------------------------------------------------


def site_get_or_create(*, domain_or_url: str) -> Site:
    """The Site of a domain or URL, by registrable domain (``https://www.Blog.Example.co.uk/x``
    → ``example.co.uk``). Raises DomainError for text that names no usable domain."""
    domain = domains.require_registrable(domains.host_of_url(domain_or_url))
    site, _ = Site.objects.get_or_create(domain=domain)
    return site


def site_update_terms(*, site_pk: int, brand_terms: list[str], money_terms: list[str]) -> None:
    """Store a site's brand and money terms (they drive anchor categories); nothing else changes."""
    Site.objects.filter(pk=site_pk).update(brand_terms=brand_terms, money_terms=money_terms)


class SiteInUse(Exception):
    """A site cannot be deleted while projects use it; ``users`` names up to five of them."""

    def __init__(self, users: list[str]) -> None:
        super().__init__(", ".join(users))
        self.users = users


@transaction.atomic
def site_delete(*, site_pk: int) -> None:
    """Delete a site with its links, referring domains and imports (cascades run in SQL).

    Raises SiteInUse when projects protect it; audit names them without importing prospects.
    """
    try:
        Site.objects.filter(pk=site_pk).delete()
    except ProtectedError as exc:
        raise SiteInUse(sorted({str(obj) for obj in exc.protected_objects})[:5]) from None


# --- rows another module already parsed ----------------------------------------------------


class _NoProgress(ProgressReporter):
    """Progress channel for rows already in memory: there is nothing to report or cancel."""

    def publish(self, **counts: int) -> bool:
        return False


@transaction.atomic
def link_import_load_parsed(
    *, site: Site, rows: list[RefDomainRow], format: ImportFormat, provider: Provider, file_name: str,
    created_by: AbstractBaseUser | None,
) -> LinkImport:
    """Merge referring-domain rows that a caller has parsed and checked (e.g. a gap export's
    column for this site) as one finished, partial (never marks anything lost) LinkImport."""
    link_import = LinkImport.objects.create(
        site=site, created_by=created_by, file_name=file_name[:255], format=format,
        kind=ImportKind.REFDOMAINS, full_snapshot=False, status=ImportStatus.RUNNING, started_at=timezone.now(),
    )
    target = LoadTarget(
        import_id=link_import.id, site_id=site.id, kind=ImportKind.REFDOMAINS, provider=provider,
        full_snapshot=False, import_date=timezone.localdate(),
    )
    loaded = LoadResult()
    # Every row was checked by the caller: a single bad one fails the whole load.
    load_rows(
        target, rows, result=loaded, bytes_read=lambda: 0, progress=_NoProgress(link_import.id, interval=3600),
        limits=LoadLimits(max_bad_rows=0),
    )
    LinkImport.objects.filter(id=link_import.id).update(
        status=ImportStatus.SUCCEEDED, finished_at=timezone.now(), rows_read=len(rows),
        rows_imported=loaded.rows_imported, rows_new=loaded.rows_new,
    )
    link_import.refresh_from_db()
    return link_import


# --- creating an import ------------------------------------------------------------------


def _importers() -> Any:
    """The format registry (audit.importers.detect), imported late: it is a big module tree."""
    from audit.importers import detect

    return detect


def _limits() -> LoadLimits:
    return LoadLimits(
        max_bad_rows=settings.LINKCRM_IMPORT_MAX_BAD_ROWS, max_bad_ratio=settings.LINKCRM_IMPORT_MAX_BAD_RATIO
    )


def _detect(
    stream: Any, column_mapping: dict[str, str] | None, forced: ImportFormat | None
) -> tuple[FormatSpec, ImportKind]:
    """Reads the header (and first row) only; returns the format and what its rows are."""
    detect = _importers()
    from audit.importers.reader import open_export

    with open_export(stream, max_bytes=settings.LINKCRM_IMPORT_MAX_DECOMPRESSED_BYTES) as reader:
        if column_mapping:
            importer = detect.importer_for(ImportFormat.GENERIC_CSV)
        elif forced:
            importer = detect.importer_for(forced)
            if importer.match_score(frozenset(reader.normalized_header)) == 0:
                raise ImportRefused(
                    f"the header does not match the {forced.label} format", line=reader.header_line
                )
        else:
            importer = detect.importer_for(detect.detect_format(reader.normalized_header).format)
        # Building the converter checks the mapping against the header, still before any row.
        importer.converter(reader.header, column_mapping or None, default_target_url="https://example.com/")
        return importer.spec, importer.kind_for(column_mapping or None)


def link_import_store(
    *,
    site: Site,
    uploaded_file: File,
    created_by: AbstractBaseUser | None,
    column_mapping: dict[str, str] | None = None,
    full_snapshot: bool | None = None,
    import_format: ImportFormat | None = None,
) -> LinkImport:
    """Checks the upload's size and header, stores it under MEDIA_ROOT and records a queued import.

    Raises ImportRefused (nothing stored) for a file over LINKCRM_IMPORT_MAX_BYTES or a header
    no importer knows. ``import_format`` forces a format instead of detecting it.
    """
    size = uploaded_file.size or 0
    if size > settings.LINKCRM_IMPORT_MAX_BYTES:
        raise ImportRefused(
            f"the file is {size:,} bytes; the upload limit is {settings.LINKCRM_IMPORT_MAX_BYTES:,} bytes"
        )
    uploaded_file.seek(0)
    spec, kind = _detect(uploaded_file, column_mapping, import_format)
    uploaded_file.seek(0)
    name = os.path.basename(uploaded_file.name or "export.csv")[:200]
    link_import = LinkImport(
        site=site, created_by=created_by, file_name=name, file_size=size, format=spec.format, kind=kind,
        column_mapping=column_mapping or {},
        full_snapshot=spec.full_snapshot if full_snapshot is None else full_snapshot,
    )  # fmt: skip
    link_import.file.save(name, uploaded_file, save=False)
    try:
        link_import.save()
    except BaseException:
        link_import.file.delete(save=False)  # no row, no orphan file
        raise
    return link_import


@transaction.atomic
def link_import_create(
    *,
    site: Site,
    uploaded_file: File,
    created_by: AbstractBaseUser | None,
    column_mapping: dict[str, str] | None = None,
    full_snapshot: bool | None = None,
) -> LinkImport:
    """Stores and checks the upload (see link_import_store), then runs it in the background."""
    link_import = link_import_store(
        site=site, uploaded_file=uploaded_file, created_by=created_by,
        column_mapping=column_mapping, full_snapshot=full_snapshot,
    )  # fmt: skip
    _enqueue_on_commit(link_import.id)
    return link_import


def _enqueue_on_commit(import_id: int) -> None:
    transaction.on_commit(lambda: async_task(RUN_TASK, import_id, task_name=f"link-import-{import_id}"))


@transaction.atomic
def link_import_from_semrush_api(
    *, site: Site, created_by: AbstractBaseUser | None, limit: int
) -> LinkImport:
    """Queues a pull of up to ``limit`` backlinks of the site from the Semrush API.

    The key comes from LINKCRM_SEMRUSH_API_KEY at run time; it is never stored or logged.
    A pull capped by ``limit`` may be incomplete, so it never marks links lost.
    """
    if not settings.LINKCRM_SEMRUSH_API_KEY:
        raise ImportRefused("no Semrush API key is configured (set LINKCRM_SEMRUSH_API_KEY)")
    if limit < 1:
        raise ImportRefused("the number of backlinks to fetch must be at least 1")
    link_import = LinkImport.objects.create(
        site=site, created_by=created_by, file_name=f"Semrush API: {site.domain}",
        format=ImportFormat.SEMRUSH_API,
        kind=ImportKind.BACKLINKS, full_snapshot=False, api_limit=limit,
    )  # fmt: skip
    _enqueue_on_commit(link_import.id)
    return link_import


# --- running an import -------------------------------------------------------------------


def link_import_run(*, import_id: int) -> LinkImport:
    """Runs a queued import to its end: succeeded, failed or cancelled (never left running).

    A call for an import that is not queued (already run, running elsewhere, cancelled)
    does nothing and returns it as it is.
    """
    claimed = LinkImport.objects.filter(id=import_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING, started_at=timezone.now()
    )
    link_import = LinkImport.objects.select_related("site").get(id=import_id)
    if not claimed:
        logger.info("link import %s is %s, not queued: not run", import_id, link_import.status)
        return link_import
    result = LoadResult()
    progress = ProgressReporter(import_id, interval=settings.LINKCRM_IMPORT_PROGRESS_MS / 1000)
    try:
        with transaction.atomic():
            _load(link_import, result, progress)
            progress.close()  # before the final update locks the row
            _finish_succeeded(link_import, result)
            toxicity.toxicity_run_queue(site=link_import.site, link_import=link_import)  # re-score on commit
    except ImportCancelled:
        _finish_failed(link_import, result, ImportStatus.CANCELLED, CANCELLED_MESSAGE)
    except ImportRefused as exc:
        if exc.line is not None:
            result.row_errors.append({"line": exc.line, "field": "file", "message": exc.message})
        _finish_failed(link_import, result, ImportStatus.FAILED, str(exc))
    except DatabaseError as exc:
        logger.exception("link import %s failed in the database", import_id)
        _finish_failed(
            link_import, result, ImportStatus.FAILED, f"database error, nothing was imported: {exc}"
        )
    except Exception as exc:
        logger.exception("link import %s failed", import_id)
        _finish_failed(
            link_import, result, ImportStatus.FAILED, f"unexpected error, nothing was imported: {exc!r}"
        )
    finally:
        progress.close()
    link_import.refresh_from_db()
    return link_import


def _load(link_import: LinkImport, result: LoadResult, progress: ProgressReporter) -> None:
    """Streams the import's rows into the loader (inside the caller's transaction)."""
    site = link_import.site
    with _open_rows(link_import) as (spec, rows, bytes_read):
        target = LoadTarget(
            import_id=link_import.id, site_id=site.id, kind=ImportKind(link_import.kind or spec.kind),
            provider=Provider(spec.provider), full_snapshot=link_import.full_snapshot,
            import_date=timezone.localdate(link_import.created_at),
        )  # fmt: skip
        load_rows(target, rows, result=result, bytes_read=bytes_read, progress=progress, limits=_limits())


@contextmanager
def _open_rows(link_import: LinkImport) -> Iterator[tuple[FormatSpec, Iterable[Any], Any]]:
    """(format spec, normalised rows, bytes-read callable) for the import's file or API pull."""
    detect = _importers()
    importer = detect.importer_for(ImportFormat(link_import.format))
    if link_import.format == ImportFormat.SEMRUSH_API:
        yield importer.spec, _semrush_api_rows(link_import), lambda: 0
        return
    from audit.importers.reader import open_export

    limit = settings.LINKCRM_IMPORT_MAX_DECOMPRESSED_BYTES
    with link_import.file.open("rb") as stream, open_export(stream, max_bytes=limit) as reader:
        # The loader's converter: a format's fused fast path to COPY text, where it has one.
        converter = importer.load_converter(
            reader.header, link_import.column_mapping or None,
            default_target_url=site_root_url(link_import.site.domain),
        )  # fmt: skip
        yield importer.spec, detect.iter_normalised(reader, converter), lambda: reader.bytes_read


def _semrush_api_rows(link_import: LinkImport) -> Iterator[BacklinkRow | RefDomainRow | LineError]:
    from audit.importers import semrush_api

    client = semrush_api.SemrushClient(
        api_key=settings.LINKCRM_SEMRUSH_API_KEY, base_url=settings.LINKCRM_SEMRUSH_API_URL
    )
    return client.backlinks(target=link_import.site.domain, limit=link_import.api_limit or 1000)


def _finish_succeeded(link_import: LinkImport, result: LoadResult) -> None:
    """Inside the import's transaction: the outcome commits with the data, or not at all."""
    done = LinkImport.objects.filter(
        id=link_import.id, status=ImportStatus.RUNNING, cancel_requested=False
    ).update(status=ImportStatus.SUCCEEDED, finished_at=timezone.now(), error="", **_counts(result))
    if not done:  # cancelled at the last moment: honour it
        raise ImportCancelled()


def _finish_failed(link_import: LinkImport, result: LoadResult, status: ImportStatus, message: str) -> None:
    """After the rollback: record why, with what was read and the row errors found so far."""
    counts = {**_counts(result), "rows_imported": 0, "rows_new": 0, "rows_lost": 0}  # all rolled back
    LinkImport.objects.filter(id=link_import.id, status=ImportStatus.RUNNING).update(
        status=status, finished_at=timezone.now(), error=message, **counts
    )


def _counts(result: LoadResult) -> dict[str, Any]:
    return {
        "bytes_read": result.bytes_read,
        "rows_read": result.rows_read,
        "rows_imported": result.rows_imported,
        "rows_skipped": result.rows_skipped,
        "rows_new": result.rows_new,
        "rows_lost": result.rows_lost,
        "row_errors": result.row_errors,
    }


def link_import_cancel(*, link_import: LinkImport) -> None:
    """Asks an import to stop. A queued one is cancelled at once; a running one stops at its
    next progress check and rolls back; a finished one is left as it is."""
    LinkImport.objects.filter(id=link_import.id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.CANCELLED, cancel_requested=True, finished_at=timezone.now(),
        error="cancelled before it started",
    )  # fmt: skip
    LinkImport.objects.filter(id=link_import.id, status=ImportStatus.RUNNING).update(cancel_requested=True)
    link_import.refresh_from_db()
