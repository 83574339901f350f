"""The background task: enqueued on commit, run through django-q2's real worker code."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django_q.conf import Conf
from django_q.models import Task

from audit.choices import ImportStatus
from audit.models import Backlink, LinkImport, Site
from audit.services import RUN_TASK, link_import_create
from audit.tasks import link_import_run_task
from tests.audit.loader_helpers import semrush_csv

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def site() -> Site:
    return Site.objects.create(domain="example.com")


def test_creating_an_import_enqueues_the_task_only_on_commit(
    site, django_capture_on_commit_callbacks, monkeypatch
):
    enqueued: list[tuple] = []
    monkeypatch.setattr("audit.services.async_task", lambda *args, **kwargs: enqueued.append(args))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        link_import = link_import_create(
            site=site, uploaded_file=ContentFile(semrush_csv(3), name="a.csv"), created_by=None
        )
        assert enqueued == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert enqueued == [(RUN_TASK, link_import.id)]
    assert link_import.status == ImportStatus.QUEUED


def test_the_task_runs_the_import_through_django_q(site, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", True)  # async_task runs django-q2's worker code in-process
    with django_capture_on_commit_callbacks(execute=True):
        link_import = link_import_create(
            site=site, uploaded_file=ContentFile(semrush_csv(7), name="a.csv"), created_by=None
        )
    link_import.refresh_from_db()
    assert (link_import.status, link_import.rows_new) == (ImportStatus.SUCCEEDED, 7)
    assert Backlink.objects.filter(site=site).count() == 7
    task = Task.objects.get(name=f"link-import-{link_import.id}")
    assert (task.func, task.args, task.success, task.result) == (
        RUN_TASK,
        (link_import.id,),
        True,
        "succeeded",
    )


def test_the_task_reports_a_failed_import_without_raising(site, settings):
    settings.LINKCRM_IMPORT_MAX_BAD_ROWS = 0
    link_import = LinkImport.objects.create(
        site=site, file_name="a.csv", format="semrush_backlinks", kind="backlinks",
        file=ContentFile(semrush_csv(2, extra=("1,x",)), name="a.csv"),
    )  # fmt: skip
    assert link_import_run_task(link_import.id) == ImportStatus.FAILED
    link_import.refresh_from_db()
    assert link_import.error.startswith("more than 0 malformed rows")
    assert not Backlink.objects.exists()
