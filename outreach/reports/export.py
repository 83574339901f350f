"""Any report table as CSV or XLSX, safe to open in a spreadsheet.

Formula injection: a cell whose text starts with ``=``, ``+``, ``-``, ``@``, a TAB or a CR is
run as a formula by Excel, LibreOffice and Google Sheets (a prospect's domain or a template
name is text someone else chose). Such text is written with a leading apostrophe (``'``),
which spreadsheets show as plain text — the OWASP "CSV injection" advice. Numbers are written
as numbers (XLSX) or digits (CSV) and never prefixed, so a negative figure stays a number.
In XLSX every text cell is also written with ``write_string``, never parsed as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import xlsxwriter

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Table:
    """A report table: a key (for export URLs and file names), a title, column headings and rows."""

    key: str
    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]


def safe_text(value: str) -> str:
    """Text a spreadsheet will not execute: prefixed with ``'`` when it starts like a formula."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def _cell(value: Any) -> Any:
    """A cell's value: numbers stay numbers, None is empty, dates are ISO text, the rest safe text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return safe_text(str(value))


def to_csv(table: Table) -> bytes:
    """UTF-8 CSV with a BOM (so Excel reads the accents right), headings first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_text(str(heading)) for heading in table.columns])
    for row in table.rows:
        writer.writerow([_cell(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(table: Table) -> bytes:
    """One worksheet named after the table: bold headings, numbers as numbers, text never a formula."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                            "strings_to_urls": False, "strings_to_numbers": False})  # fmt: skip
    sheet = workbook.add_worksheet(table.key[:31])
    bold = workbook.add_format({"bold": True})
    for column, heading in enumerate(table.columns):
        sheet.write_string(0, column, safe_text(str(heading)), bold)
    for index, row in enumerate(table.rows, start=1):
        for column, value in enumerate(row):
            cell = _cell(value)
            if isinstance(cell, int | float):
                sheet.write_number(index, column, cell)
            else:
                sheet.write_string(index, column, cell)
    workbook.close()
    return buffer.getvalue()
