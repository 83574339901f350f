"""The background task: enqueued on commit, run through django-q2's real worker code."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.base import ContentFile
from django_q.conf import Conf
from django_q.models import Task

from audit.choices import ImportStatus
from audit.importers.base import ImportRefused
from audit.models import Backlink, LinkImport, Site
from audit.services import RUN_TASK, link_import_create, link_import_from_semrush_api, link_import_run
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


# --- a pull from the Semrush API (a local server answers like the API) ---------------------

API_KEY = "sk-service-test-0123456789"
API_HEADER = (
    "page_ascore;source_title;source_url;target_url;anchor;external_num;internal_num;first_seen;last_seen;"
    "nofollow;form;frame;image;sitewide;newlink;lostlink"
)


class _SemrushHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        query = {name: values[0] for name, values in parse_qs(urlsplit(self.path).query).items()}
        if query.get("key") != API_KEY:
            body = "ERROR 120 :: WRONG KEY - ID PAIR"
        else:
            offset, limit = int(query["display_offset"]), int(query["display_limit"])
            rows = [
                f"{n};Page {n};https://ref{n}.org/post;https://example.com/;anchor {n};3;10;"
                "1704067200;1717200000;false;false;false;false;false;false;false"
                for n in range(1, 6)
            ][offset : offset + limit]
            body = "\r\n".join([API_HEADER, *rows]) if rows else "ERROR 50 :: NOTHING FOUND"
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def semrush_api(settings) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SemrushHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.LINKCRM_SEMRUSH_API_URL = f"http://127.0.0.1:{server.server_address[1]}/analytics/v1/"
    settings.LINKCRM_SEMRUSH_API_KEY = API_KEY
    yield settings.LINKCRM_SEMRUSH_API_URL
    server.shutdown()
    thread.join()


def test_a_semrush_api_pull_imports_through_the_task_and_never_stores_the_key(
    site, semrush_api, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    monkeypatch.setattr(Conf, "SYNC", True)
    caplog.set_level(logging.DEBUG)
    with django_capture_on_commit_callbacks(execute=True):
        link_import = link_import_from_semrush_api(site=site, created_by=None, limit=3)
    link_import.refresh_from_db()
    assert (link_import.status, link_import.format, link_import.full_snapshot) == (
        ImportStatus.SUCCEEDED, "semrush_api", False,
    )  # fmt: skip
    assert (link_import.rows_read, link_import.rows_new) == (3, 3)  # the limit is honoured
    assert sorted(Backlink.objects.filter(site=site).values_list("semrush_page_ascore", flat=True)) == [
        1,
        2,
        3,
    ]
    stored = LinkImport.objects.filter(id=link_import.id).values().get()
    assert API_KEY not in repr(stored)
    assert API_KEY not in caplog.text


def test_a_semrush_api_pull_needs_a_key(site, settings):
    settings.LINKCRM_SEMRUSH_API_KEY = ""
    with pytest.raises(ImportRefused, match="LINKCRM_SEMRUSH_API_KEY"):
        link_import_from_semrush_api(site=site, created_by=None, limit=10)
    assert not LinkImport.objects.exists()


def test_a_rejected_api_key_fails_the_import_with_a_clear_message(site, semrush_api, settings):
    settings.LINKCRM_SEMRUSH_API_KEY = "sk-wrong-key"
    link_import = LinkImport.objects.create(
        site=site,
        file_name="Semrush API",
        format="semrush_api",
        kind="backlinks",
        full_snapshot=False,
        api_limit=5,
    )
    result = link_import_run(import_id=link_import.id)
    assert result.status == ImportStatus.FAILED
    assert "Semrush rejected the API key" in result.error and "sk-wrong-key" not in result.error
    assert not Backlink.objects.exists()
