"""``manage.py import_links``: what it prints and how it exits."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from audit.choices import ImportStatus
from audit.models import Backlink, LinkImport, Site
from linkcrm.localstack.config import BASE_DIR
from tests.audit.loader_helpers import semrush_csv, snapshot


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_links", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_it_prints_the_format_and_the_counts(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(
        semrush_csv(4, extra=("12,Broken,https://bad.org/,https://example.com/,x,not-a-number",))
    )
    out, _ = run("https://www.Example.com/", str(path))
    assert out.splitlines() == [
        "export.csv: Semrush Backlinks (semrush_backlinks) for example.com",
        "read 5, imported 4, new 4, lost 0, skipped 1",
        "skipped: line 6, row: expected 19 cells but found 6 "
        "(a quote or delimiter inside a value may not be escaped)",
        f"import {LinkImport.objects.get().id} succeeded",
    ]
    assert Backlink.objects.filter(site__domain="example.com").count() == 4


@pytest.mark.django_db
def test_a_newer_snapshot_reports_lost_links_and_partial_does_not(tmp_path):
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_bytes(semrush_csv(5))
    second.write_bytes(semrush_csv(4, start=2))  # links 0 and 1 gone, 5 new
    run("example.com", str(first))
    out, _ = run("example.com", str(second), "--partial")
    assert "partial export" in out.splitlines()[0]
    assert "read 4, imported 4, new 1, lost 0, skipped 0" in out
    out, _ = run("example.com", str(second))
    assert "read 4, imported 4, new 0, lost 2, skipped 0" in out


@pytest.mark.django_db
def test_a_refused_file_exits_non_zero_with_the_line_and_changes_nothing(tmp_path):
    Site.objects.create(domain="example.com")
    before = snapshot()
    path = tmp_path / "odd.csv"
    path.write_bytes(b"Foo,Bar\n1,2\n")
    with pytest.raises(
        CommandError, match=r"odd.csv refused: line 1: the header does not match any supported export"
    ):
        run("example.com", str(path))
    assert snapshot() == before
    assert not LinkImport.objects.exists()


@pytest.mark.django_db
def test_a_failed_import_lists_its_row_errors_and_exits_non_zero(tmp_path, settings):
    settings.LINKCRM_IMPORT_MAX_BAD_ROWS = 1
    path = tmp_path / "bad.csv"
    broken = tuple(f"1,T,https://bad{n}.org/,https://example.com/,a,many-cells,x" for n in range(2))
    path.write_bytes(semrush_csv(3, extra=broken))
    err = StringIO()
    with pytest.raises(CommandError, match=r"import \d+ failed: more than 1 malformed rows"):
        call_command("import_links", "example.com", str(path), stdout=StringIO(), stderr=err)
    assert [line.split(",")[0] for line in err.getvalue().splitlines()] == ["line 5", "line 6"]
    assert LinkImport.objects.get().status == ImportStatus.FAILED
    assert not Backlink.objects.exists()


@pytest.mark.django_db
def test_a_forced_format_must_fit_the_header(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(semrush_csv(2))
    with pytest.raises(CommandError, match="does not match the Ahrefs Backlinks format"):
        run("example.com", str(path), "--format", "ahrefs_backlinks")
    out, _ = run("example.com", str(path), "--format", "semrush_backlinks")
    assert "new 2" in out


def test_it_runs_as_a_real_process_and_exits_1_on_refusal(transactional_db, tmp_path):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_bytes(semrush_csv(3))
    bad.write_bytes(b"Foo,Bar\n1,2\n")
    db = connection.settings_dict
    env = {
        **os.environ, "MEDIA_ROOT": str(tmp_path / "media"),
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }  # fmt: skip
    command = [sys.executable, str(BASE_DIR / "manage.py"), "import_links", "example.com"]
    ok = subprocess.run(
        [*command, str(good)], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert ok.returncode == 0, ok.stderr
    assert "read 3, imported 3, new 3, lost 0, skipped 0" in ok.stdout
    refused = subprocess.run(
        [*command, str(bad)], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert refused.returncode == 1
    assert "bad.csv refused: line 1:" in refused.stderr
    assert Backlink.objects.filter(site__domain="example.com").count() == 3
