"""Exports: CSV and XLSX of any table, with text that could run as a formula neutralised."""

from __future__ import annotations

import csv
import html
import io
import re
import zipfile

import pytest

from outreach.reports.export import Table, safe_text, to_csv, to_xlsx
from tests.outreach import reports_world as w

pytestmark = pytest.mark.django_db
MARCH_QUERY = "?start=2026-03-01&end=2026-03-31"
EVIL = ("=HYPERLINK(\"http://x.test\")", "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR")


def test_text_starting_like_a_formula_gets_a_quote_and_nothing_else_does():
    assert [safe_text(value) for value in EVIL] == ["'" + value for value in EVIL]
    assert [safe_text(value) for value in ("plain", "a=b", " =x", "")] == ["plain", "a=b", " =x", ""]


def rows_of_csv(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_csv_quotes_formula_text_and_keeps_numbers_as_numbers():
    table = Table("t", "T", ("=Name", "Count", "Rate %"), [(EVIL[0], -3, 12.5), ("ok", 4, None)])
    assert rows_of_csv(to_csv(table)) == [["'=Name", "Count", "Rate %"], ["'" + EVIL[0], "-3", "12.5"],
                                          ["ok", "4", ""]]  # fmt: skip


def xlsx_cells(data: bytes) -> tuple[str, list[str]]:
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
        strings = book.read("xl/sharedStrings.xml").decode()
    return sheet, [html.unescape(text) for text in re.findall(r"<t[^>]*>([^<]*)</t>", strings)]


def test_xlsx_writes_formula_text_as_quoted_strings_and_numbers_as_numbers():
    table = Table("t", "T", ("Name", "Count"), [(value, n) for n, value in enumerate(EVIL, start=-1)])
    sheet, strings = xlsx_cells(to_xlsx(table))
    assert "<f>" not in sheet  # no cell is a formula
    assert set(strings) >= {"'" + value for value in EVIL[:5]}
    assert '<c r="B2" t="n"' in sheet or re.search(r'<c r="B2"[^>]*><v>-1</v>', sheet)


def test_the_export_endpoint_serves_a_hostile_template_name_safely(alice, bob, manager, client_for):
    world = w.rates_world(alice, bob)
    world["tpl"].name = "=cmd|' /C calc'!A0"
    world["tpl"].save()
    client = client_for(manager)
    response = client.get("/reports/export/template.csv" + MARCH_QUERY)
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="linkcrm-template-20260301-20260331.csv"'
    assert rows_of_csv(response.content)[1][:3] == ["'=cmd|' /C calc'!A0", "5", "4"]
    response = client.get("/reports/export/template.xlsx" + MARCH_QUERY)
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet, strings = xlsx_cells(response.content)
    assert "'=cmd|' /C calc'!A0" in strings and "<f>" not in sheet


def test_every_table_of_the_page_exports_and_unknown_ones_are_404(alice, bob, manager, client_for):
    w.rates_world(alice, bob)
    client = client_for(manager)
    for key in ("funnel", "totals", "sequence", "template", "version", "step", "mailbox", "assignee", "month",
                "velocity", "refdomains", "stale"):  # fmt: skip
        response = client.get(f"/reports/export/{key}.csv" + MARCH_QUERY)
        assert response.status_code == 200, key
        assert len(rows_of_csv(response.content)[0]) >= (1 if key == "refdomains" else 2), key
    assert client.get("/reports/export/nope.csv").status_code == 404
    assert client.get("/reports/export/funnel.pdf").status_code == 404


def test_the_page_shows_every_table_with_its_download_links(alice, bob, manager, client_for):
    w.rates_world(alice, bob)
    page = client_for(manager).get("/reports/" + MARCH_QUERY).content.decode()
    for key in ("funnel", "totals", "sequence", "template", "version", "step", "mailbox", "assignee", "month",
                "velocity", "stale"):  # fmt: skip  (refdomains: only with a project whose sites have dates)
        assert f'id="table-{key}"' in page, key
        assert f'href="/reports/export/{key}.csv?start=2026-03-01&amp;end=2026-03-31"' in page, key
        assert f'href="/reports/export/{key}.xlsx?start=2026-03-01&amp;end=2026-03-31"' in page, key
    assert '<td data-sort="' in page and 'scope="col">Emails sent</th>' in page
