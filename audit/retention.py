"""How long uploaded export files are kept once their import has finished.

An import reads its file once; afterwards only the counts and the row-numbered report on the
LinkImport row matter. Keeping every upload forever fills the disk (a monthly 1 GB export per
site adds up), so finished imports lose their file after ``LINKCRM_IMPORT_KEEP_FILES_DAYS``.
The row, its figures and its error report stay. Uploads left waiting for a column mapping
(the user never finished that step) are swept a day after they were stored.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from audit.choices import ImportStatus
from audit.models import LinkImport

FINISHED = (ImportStatus.SUCCEEDED, ImportStatus.FAILED, ImportStatus.CANCELLED)
# Uploads waiting for a column mapping (audit.views), one folder per token.
PENDING_DIR = "imports/pending"
PENDING_MAX_AGE = timedelta(days=1)


def link_import_files_prune(*, now: datetime | None = None) -> int:
    """Delete the stored files of imports finished more than the configured days ago; how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.LINKCRM_IMPORT_KEEP_FILES_DAYS)
    done = LinkImport.objects.filter(status__in=FINISHED, finished_at__lte=cutoff).exclude(file="")
    pruned = 0
    for link_import in done.iterator():
        # Only a row still finished and still pointing at this file gives it up (a guarded update).
        name = link_import.file.name
        if LinkImport.objects.filter(pk=link_import.pk, status__in=FINISHED, file=name).update(file=""):
            link_import.file.storage.delete(name)
            pruned += 1
    return pruned


def pending_uploads_prune(*, now: datetime | None = None) -> int:
    """Delete uploads waiting for a column mapping longer than PENDING_MAX_AGE; how many."""
    if not default_storage.exists(PENDING_DIR):
        return 0
    cutoff = (now or timezone.now()) - PENDING_MAX_AGE
    pruned = 0
    tokens, _files = default_storage.listdir(PENDING_DIR)
    for token in tokens:
        _dirs, names = default_storage.listdir(f"{PENDING_DIR}/{token}")
        for name in names:
            path = f"{PENDING_DIR}/{token}/{name}"
            if default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
                pruned += 1
    return pruned
