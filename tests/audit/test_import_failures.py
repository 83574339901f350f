"""A refused or failed import leaves the database exactly as it was, and says why."""

from __future__ import annotations

import gzip
import threading
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.db import connection

from audit.choices import ImportStatus
from audit.importers import detect
from audit.importers.base import ImportRefused
from audit.loading import COPY_BATCH_ROWS
from audit.models import Backlink, LinkImport, Site
from audit.services import (
    link_import_cancel,
    link_import_create,
    link_import_run,
    link_import_store,
)
from tests.audit.loader_helpers import semrush_csv, semrush_line, snapshot


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def site(db) -> Site:
    """A site that already holds an imported profile, so a failure has something to spoil."""
    site = Site.objects.create(domain="example.com")
    first = link_import_store(
        site=site, uploaded_file=ContentFile(semrush_csv(20), name="first.csv"), created_by=None
    )
    assert link_import_run(import_id=first.id).status == ImportStatus.SUCCEEDED
    return site


def run_upload(site: Site, content: bytes, name: str = "export.csv") -> LinkImport:
    link_import = link_import_store(site=site, uploaded_file=ContentFile(content, name=name), created_by=None)
    return link_import_run(import_id=link_import.id)


def stored_files(media: Path) -> list[Path]:
    return [path for path in media.rglob("*") if path.is_file()]


def test_an_unknown_header_is_refused_before_anything_is_stored(
    site, media, django_capture_on_commit_callbacks
):
    before, imports, files = snapshot(), LinkImport.objects.count(), stored_files(media)
    refusal = pytest.raises(ImportRefused, match="does not match any supported export")
    with django_capture_on_commit_callbacks() as callbacks, refusal as refused:
        link_import_create(
            site=site, uploaded_file=ContentFile(b"Foo,Bar\n1,2\n", name="x.csv"), created_by=None
        )
    assert refused.value.line == 1
    assert (snapshot(), LinkImport.objects.count(), stored_files(media)) == (before, imports, files)
    assert callbacks == []  # nothing enqueued


def test_an_upload_over_the_size_limit_is_refused(site, settings, media):
    settings.LINKCRM_IMPORT_MAX_BYTES = 1000
    before, imports = snapshot(), LinkImport.objects.count()
    with pytest.raises(ImportRefused, match="upload limit is 1,000 bytes"):
        link_import_store(
            site=site, uploaded_file=ContentFile(semrush_csv(50), name="big.csv"), created_by=None
        )
    assert (snapshot(), LinkImport.objects.count()) == (before, imports)


def test_a_file_that_expands_past_the_limit_fails_and_changes_nothing(site, settings):
    settings.LINKCRM_IMPORT_MAX_DECOMPRESSED_BYTES = 200_000  # the header passes; the rows do not
    before = snapshot()
    content = semrush_csv(3000, start=100)
    assert len(content) > 200_000
    link_import = run_upload(site, gzip.compress(content), "export.csv.gz")
    assert link_import.status == ImportStatus.FAILED
    assert "larger than the limit" in link_import.error
    assert snapshot() == before


def test_a_wrong_encoding_fails_with_the_line_and_changes_nothing(site):
    before = snapshot()
    content = semrush_csv(5, start=100) + semrush_line(200, anchor="Caf\xe9").encode("latin-1") + b"\n"
    link_import = run_upload(site, content)
    assert link_import.status == ImportStatus.FAILED
    assert "not UTF-8" in link_import.error and "line 7" in link_import.error
    assert link_import.row_errors[-1]["line"] == 7
    assert snapshot() == before


def test_too_many_malformed_rows_fail_the_import_with_a_row_numbered_report(site, settings):
    settings.LINKCRM_IMPORT_MAX_BAD_ROWS = 3
    before = snapshot()
    broken = tuple(f"12,Broken,https://bad{n}.org/,https://example.com/,x,not-a-number" for n in range(4))
    link_import = run_upload(site, semrush_csv(100, start=100, extra=broken))
    assert link_import.status == ImportStatus.FAILED
    assert "more than 3 malformed rows" in link_import.error
    assert [error["line"] for error in link_import.row_errors] == [102, 103, 104, 105]
    assert all(error["field"] == "row" for error in link_import.row_errors)
    assert (link_import.rows_skipped, link_import.rows_imported, link_import.rows_new) == (4, 0, 0)
    assert snapshot() == before


def test_a_database_error_midway_rolls_everything_back(site):
    before = snapshot()
    with connection.cursor() as cursor:  # a real failure inside PostgreSQL, part-way through the merge
        cursor.execute(
            """CREATE FUNCTION test_refuse_link() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN IF NEW.source_url LIKE '%page-150' THEN RAISE EXCEPTION 'disk on fire'; END IF;
               RETURN NEW; END $$;
               CREATE TRIGGER test_refuse_link BEFORE INSERT ON audit_backlink
               FOR EACH ROW EXECUTE FUNCTION test_refuse_link();"""
        )
    link_import = run_upload(site, semrush_csv(100, start=100))
    assert link_import.status == ImportStatus.FAILED
    assert link_import.error.startswith("database error, nothing was imported: disk on fire")
    assert snapshot() == before


def test_a_run_only_claims_a_queued_import(site):
    link_import = link_import_store(
        site=site, uploaded_file=ContentFile(semrush_csv(3), name="a.csv"), created_by=None
    )
    assert link_import_run(import_id=link_import.id).status == ImportStatus.SUCCEEDED
    before = snapshot(with_xmin=True)
    again = link_import_run(import_id=link_import.id)  # e.g. a retried task
    assert again.status == ImportStatus.SUCCEEDED
    assert snapshot(with_xmin=True) == before


def test_a_queued_import_can_be_cancelled_and_then_never_runs(site):
    link_import = link_import_store(
        site=site, uploaded_file=ContentFile(semrush_csv(3, start=50), name="a.csv"), created_by=None
    )
    link_import_cancel(link_import=link_import)
    assert link_import.status == ImportStatus.CANCELLED
    before = snapshot()
    assert link_import_run(import_id=link_import.id).status == ImportStatus.CANCELLED
    assert snapshot() == before


# --- while an import runs (its transaction is open in another thread) ---------------------


class PausedImport:
    """Runs link_import_run in a thread whose row stream stops after ``pause_after`` rows
    until the test says go: a deterministic window onto a running import (no sleeps)."""

    def __init__(self, monkeypatch, import_id: int, pause_after: int) -> None:
        self.import_id = import_id
        self.paused, self.resume = threading.Event(), threading.Event()
        self.result: LinkImport | None = None
        real = detect.iter_normalised

        def pausing(reader, converter):
            for count, item in enumerate(real(reader, converter), 1):
                yield item
                if count == pause_after:
                    self.paused.set()
                    assert self.resume.wait(60)

        monkeypatch.setattr(detect, "iter_normalised", pausing)
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        try:
            self.result = link_import_run(import_id=self.import_id)
        finally:
            connection.close()

    def __enter__(self) -> PausedImport:
        self.thread.start()
        assert self.paused.wait(60), "the import never reached the pause"
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.resume.set()
        self.thread.join(60)
        assert not self.thread.is_alive()


@pytest.fixture
def live_site(transactional_db, settings) -> Site:
    settings.LINKCRM_IMPORT_PROGRESS_MS = 0  # publish at every batch
    return Site.objects.create(domain="example.com")


def test_progress_is_visible_from_another_connection_while_the_transaction_is_open(live_site, monkeypatch):
    rows = 3 * COPY_BATCH_ROWS + 10
    content = semrush_csv(rows)
    link_import = link_import_store(
        site=live_site, uploaded_file=ContentFile(content, name="a.csv"), created_by=None
    )
    with PausedImport(monkeypatch, link_import.id, pause_after=2 * COPY_BATCH_ROWS) as running:
        seen = LinkImport.objects.get(id=link_import.id)  # this thread's own connection
        assert seen.status == ImportStatus.RUNNING
        assert seen.rows_read == 2 * COPY_BATCH_ROWS
        assert 0 < seen.bytes_read <= len(content)
        assert not Backlink.objects.filter(site=live_site).exists()  # nothing committed yet
    assert running.result.status == ImportStatus.SUCCEEDED
    assert (running.result.rows_read, running.result.bytes_read) == (rows, len(content))
    assert Backlink.objects.filter(site=live_site).count() == rows


def test_cancelling_midway_rolls_back_and_records_the_cancel(live_site, monkeypatch):
    first = link_import_store(
        site=live_site, uploaded_file=ContentFile(semrush_csv(10), name="a.csv"), created_by=None
    )
    link_import_run(import_id=first.id)
    before = snapshot()
    content = semrush_csv(3 * COPY_BATCH_ROWS, start=10)
    link_import = link_import_store(
        site=live_site, uploaded_file=ContentFile(content, name="b.csv"), created_by=None
    )
    with PausedImport(monkeypatch, link_import.id, pause_after=COPY_BATCH_ROWS) as running:
        link_import_cancel(link_import=link_import)
        assert link_import.cancel_requested and link_import.status == ImportStatus.RUNNING
    assert running.result.status == ImportStatus.CANCELLED
    assert "cancelled" in running.result.error
    assert running.result.rows_read < 3 * COPY_BATCH_ROWS  # it stopped early
    assert snapshot() == before
