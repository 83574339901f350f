"""Uploaded export files are deleted a while after their import finished; the import's record stays."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from audit.choices import ImportStatus
from audit.models import LinkImport, Site
from audit.retention import PENDING_DIR, link_import_files_prune, pending_uploads_prune
from audit.services import link_import_run, link_import_store
from audit.tasks import link_import_files_prune_task
from linkcrm.schedules import SCHEDULES
from tests.audit.loader_helpers import semrush_csv

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LINKCRM_IMPORT_KEEP_FILES_DAYS = 7
    return settings.MEDIA_ROOT


def _stored(site: Site, rows: int = 3) -> LinkImport:
    return link_import_store(site=site, uploaded_file=ContentFile(semrush_csv(rows), name="a.csv"), created_by=None)


def test_it_deletes_files_of_imports_finished_long_enough_ago_and_keeps_their_record() -> None:
    site = Site.objects.create(domain="example.com")
    old = link_import_run(import_id=_stored(site).id)
    recent = link_import_run(import_id=_stored(site).id)
    queued = _stored(site)
    LinkImport.objects.filter(pk=old.pk).update(finished_at=timezone.now() - timedelta(days=8))
    old_path = Path(old.file.path)
    assert old.status == ImportStatus.SUCCEEDED and old_path.exists()

    assert link_import_files_prune() == 1
    assert link_import_files_prune() == 0  # nothing twice

    old.refresh_from_db()
    assert not old_path.exists() and old.file.name == ""
    assert (old.status, old.rows_imported) == (ImportStatus.SUCCEEDED, 3)  # the record stays
    for kept in (recent, queued):
        kept.refresh_from_db()
        assert Path(kept.file.path).exists()


def test_a_queued_import_keeps_its_file_however_old() -> None:
    queued = _stored(Site.objects.create(domain="example.org"))
    later = timezone.now() + timedelta(days=365)
    assert link_import_files_prune(now=later) == 0
    assert Path(queued.file.path).exists()


def test_the_daily_sweep_is_scheduled() -> None:
    assert link_import_files_prune_task() == 0
    assert any(entry.func == "audit.tasks.link_import_files_prune_task" for entry in SCHEDULES)


def test_uploads_abandoned_at_the_mapping_step_are_swept_after_a_day() -> None:
    assert pending_uploads_prune() == 0  # no pending folder yet
    stale = default_storage.save(f"{PENDING_DIR}/tok1/old.csv", ContentFile(b"a,b\n"))
    fresh = default_storage.save(f"{PENDING_DIR}/tok2/new.csv", ContentFile(b"a,b\n"))
    assert pending_uploads_prune() == 0  # both younger than a day
    assert pending_uploads_prune(now=timezone.now() + timedelta(hours=25)) == 2
    assert not default_storage.exists(stale) and not default_storage.exists(fresh)
    default_storage.save(f"{PENDING_DIR}/tok3/x.csv", ContentFile(b"a,b\n"))
    assert link_import_files_prune_task() == 0  # the daily task sweeps them too, once old enough
