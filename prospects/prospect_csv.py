"""Reading a CSV list of prospects: one domain or URL per row, optional tags, assignee and notes.

Accepted: UTF-8 (with or without BOM) or UTF-16 with BOM; comma, semicolon or TAB separated
(sniffed from the first line). The header names the columns (case and spaces ignored):

- domain — ``domain``, ``url``, ``website``, ``site``, ``host`` … (required)
- tags — ``tags`` (several separated by ``,`` or ``;`` inside the cell)
- assignee — ``assignee``, ``assigned to``, ``owner`` (a username or email of a project member)
- notes — ``notes``, ``note``, ``comment``

A file without a header is accepted when its first cell is already a domain: then the first
column is the domain and nothing else is read. Whole-file problems raise ``CsvRefused``
(nothing is imported); row problems are the service's to report line by line.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass

from linkcrm.lib.domains import DomainError, host_of_url, tld_of_host

MAX_BYTES = 20 * 1024 * 1024  # ~800k domains; a prospect list is never near this
MAX_ROWS = 200_000

COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "domain": ("domain", "domains", "url", "urls", "website", "site", "host", "domain/url", "domain or url",
               "referring domain", "source domain", "source url", "page url", "prospect"),
    "tags": ("tags", "tag", "labels", "label"),
    "assignee": ("assignee", "assigned to", "owner", "user", "username"),
    "notes": ("notes", "note", "comment", "comments"),
}  # fmt: skip


class CsvRefused(ValueError):
    """The whole file is refused; ``line`` says where when one line is to blame."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message if line is None else f"line {line}: {message}")
        self.message = message
        self.line = line


@dataclass(frozen=True)
class ProspectRow:
    """One data row: its physical line number and the cells that matter."""

    line: int
    domain: str
    tags: str = ""
    assignee: str = ""
    notes: str = ""


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, text = "UTF-16", data
    else:
        encoding, text = "UTF-8", data
    try:
        return text.decode("utf-16" if encoding == "UTF-16" else "utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CsvRefused(
            f"the file is not {encoding} text (save it as UTF-8 CSV): byte {exc.start + 1} cannot be read",
            line=line if encoding == "UTF-8" else None,
        ) from None


def _delimiter(first_line: str) -> str:
    counts = {delimiter: first_line.count(delimiter) for delimiter in (",", ";", "\t")}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else ","


def _header_columns(cells: list[str]) -> dict[str, int]:
    """Field → column index for the header cells we recognise (first match wins)."""
    found: dict[str, int] = {}
    for index, cell in enumerate(cells):
        name = " ".join(cell.strip().lstrip("\ufeff").lower().replace("_", " ").split())
        for field, names in COLUMN_NAMES.items():
            if name in names and field not in found:
                found[field] = index
    return found


def _looks_like_domain(cell: str) -> bool:
    """A header cell that is a host with a public suffix: the file has no header row."""
    try:
        return "." in cell and bool(tld_of_host(host_of_url(cell)))
    except DomainError:
        return False


def parse_prospects_csv(data: bytes) -> list[ProspectRow]:
    """Rows of the file in order; raises CsvRefused for a file that cannot be read as a whole."""
    if len(data) > MAX_BYTES:
        raise CsvRefused(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    text = _decode(data)
    lines = text.splitlines(keepends=True)
    first = next((line for line in lines if line.strip()), "")
    if not first:
        raise CsvRefused("the file is empty")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first), strict=True)
    rows = _records(reader)
    if not rows:
        raise CsvRefused("the file is empty")
    header_line, header = rows[0]
    columns = _header_columns(header)
    if "domain" not in columns:
        if header and _looks_like_domain(header[0]):
            return [ProspectRow(line=line, domain=cells[0].strip()) for line, cells in rows]
        names = ", ".join(COLUMN_NAMES["domain"][:6])
        raise CsvRefused(f"no domain column: name one of the columns {names}", line=header_line)
    if len(rows) == 1:
        raise CsvRefused("the file has a header but no rows", line=header_line)
    return [_row(line, cells, columns) for line, cells in rows[1:]]


def _records(reader: csv.Reader) -> list[tuple[int, list[str]]]:
    """(first physical line, cells) of every non-blank record."""
    records: list[tuple[int, list[str]]] = []
    before = 0
    try:
        for cells in reader:
            line, before = before + 1, reader.line_num
            if any(cell.strip() for cell in cells):
                records.append((line, cells))
            if len(records) > MAX_ROWS + 1:
                raise CsvRefused(f"the file has more than {MAX_ROWS:,} rows: split it", line=line)
    except csv.Error as exc:
        # Reported at the line the broken record starts on (e.g. where a quote was opened).
        raise CsvRefused(f"the file is not valid CSV: {exc}", line=before + 1) from None
    return records


def _row(line: int, cells: list[str], columns: dict[str, int]) -> ProspectRow:
    def cell(field: str) -> str:
        index = columns.get(field)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    return ProspectRow(
        line=line, domain=cell("domain"), tags=cell("tags"), assignee=cell("assignee"), notes=cell("notes")
    )
