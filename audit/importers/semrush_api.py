"""Semrush Backlinks API (``type=backlinks``): paged download into the same rows as an export.

A request is ``GET {base_url}?type=backlinks&key=...&target=example.com&target_type=root_domain
&export_columns=page_ascore,source_title,...&display_limit=N&display_offset=M``. The answer
is ``;``-separated text whose first row is the column codes; dates are Unix seconds. Errors
come as a plain-text body starting with ``ERROR <code> :: <text>``, usually with HTTP 200.

Decisions:
- ``ERROR 50 :: NOTHING FOUND`` is not an error: on the first page it means the target has
  no backlinks (zero rows); on a later page it means the previous page was the last.
- Any other ``ERROR`` raises ``SemrushApiError`` with a sentence a person can act on.
- The API key is sent only as the ``key`` query parameter and never appears in exceptions,
  ``repr`` or logs: httpx logs request URLs at INFO, so a filter on the ``httpx`` logger
  masks ``key=`` values.

The rows go through the Semrush Backlinks converter (semrush_backlinks.build accepts the
API's column codes); ``write_export`` saves a pull as a ``;``-CSV that the normal import
pipeline detects as ``ImportFormat.SEMRUSH_API``.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import httpx

from audit.choices import ImportFormat, ImportKind, Provider
from audit.importers import semrush_backlinks
from audit.importers.base import BacklinkRow, FormatSpec, LineError, RowError
from audit.importers.common import Importer

DEFAULT_API_URL = "https://api.semrush.com/analytics/v1/"
DEFAULT_PAGE_SIZE = 10_000
EXPORT_COLUMNS = (
    "page_ascore", "source_title", "source_url", "target_url", "anchor", "external_num", "internal_num",
    "first_seen", "last_seen", "nofollow", "form", "frame", "image", "sitewide", "newlink", "lostlink",
)

SPEC = FormatSpec(
    format=ImportFormat.SEMRUSH_API,
    kind=ImportKind.BACKLINKS,
    provider=Provider.SEMRUSH,
    required_headers=frozenset({"source_url", "target_url", "page_ascore"}),
    optional_headers=frozenset(EXPORT_COLUMNS),
    full_snapshot=True,
)
IMPORTER = Importer(spec=SPEC, build=semrush_backlinks.build)

_ERROR = re.compile(r"ERROR\s+(\d+)\s*::\s*(.*)", re.DOTALL)
_NOTHING_FOUND = 50
_MESSAGES = {
    120: "Semrush rejected the API key (check LINKCRM_SEMRUSH_API_KEY)",
    130: "the Semrush API is disabled for this account",
    131: "the Semrush API is not available on this account's plan",
    132: "the Semrush account has no API units left",
    133: "the Semrush account may not use this database",
    134: "the Semrush account has reached its API request limit",
}
_TRANSIENT_STATUS = {429, 500, 502, 503, 504}

logger = logging.getLogger(__name__)


class SemrushApiError(Exception):
    """The API refused or failed; ``transient`` says whether trying later may help."""

    def __init__(self, message: str, *, code: int | None = None, transient: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.transient = transient


class _MaskKeyFilter(logging.Filter):
    """Masks ``key=...`` in log records (httpx logs every request URL at INFO)."""

    _KEY = re.compile(r"([?&]key=)[^&\s\"']+")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = self._KEY.sub(r"\1***", record.getMessage())
            record.args = None
        elif isinstance(record.msg, str):
            record.msg = self._KEY.sub(r"\1***", record.msg)
        return True


def _install_log_mask() -> None:
    for name in ("httpx", "httpcore"):
        target = logging.getLogger(name)
        if not any(isinstance(existing, _MaskKeyFilter) for existing in target.filters):
            target.addFilter(_MaskKeyFilter())


_install_log_mask()


@dataclass(frozen=True)
class Page:
    """One answer: its header codes and rows (empty for NOTHING FOUND)."""

    header: list[str]
    rows: list[list[str]]


def parse_page(text: str) -> Page:
    """A response body → Page; raises SemrushApiError for an ERROR body other than NOTHING FOUND."""
    stripped = text.strip()
    if stripped.startswith("ERROR"):
        match = _ERROR.match(stripped)
        code = int(match.group(1)) if match else None
        if code == _NOTHING_FOUND:
            return Page(header=[], rows=[])
        detail = stripped[:200]
        summary = _MESSAGES.get(code or -1, "the Semrush API refused the request")
        raise SemrushApiError(f"{summary} ({detail})", code=code)
    records = [row for row in csv.reader(io.StringIO(stripped), delimiter=";") if row]
    if not records:
        return Page(header=[], rows=[])
    return Page(header=[cell.strip() for cell in records[0]], rows=records[1:])


class SemrushClient:
    """Pages through ``type=backlinks`` for one target. The key stays private (not in repr)."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = DEFAULT_API_URL,
        page_size: int = DEFAULT_PAGE_SIZE,
        timeout: float = 60.0,
        export_columns: tuple[str, ...] = EXPORT_COLUMNS,
        client: httpx.Client | None = None,
    ) -> None:
        if not api_key:
            raise SemrushApiError("no Semrush API key is configured (set LINKCRM_SEMRUSH_API_KEY)")
        self._api_key = api_key
        self.base_url = base_url
        self.page_size = page_size
        self.export_columns = export_columns
        self._client = client or httpx.Client(timeout=timeout, follow_redirects=False)

    def __repr__(self) -> str:
        return f"SemrushClient(base_url={self.base_url!r}, page_size={self.page_size})"

    def close(self) -> None:
        self._client.close()

    def fetch_page(self, target: str, *, offset: int, limit: int, target_type: str = "root_domain") -> Page:
        """One request; raises SemrushApiError (never with the key in it)."""
        params = {
            "type": "backlinks", "key": self._api_key, "target": target, "target_type": target_type,
            "export_columns": ",".join(self.export_columns), "display_limit": str(limit),
            "display_offset": str(offset),
        }
        try:
            response = self._client.get(self.base_url, params=params)
        except httpx.HTTPError as exc:
            reason = f"{type(exc).__name__}: {self._mask(str(exc))}"
            raise SemrushApiError(f"could not reach the Semrush API ({reason})", transient=True) from None
        body = response.text
        if response.status_code != 200 and not body.lstrip().startswith("ERROR"):
            raise SemrushApiError(
                f"the Semrush API answered HTTP {response.status_code}",
                transient=response.status_code in _TRANSIENT_STATUS,
            )
        try:
            return parse_page(body)
        except SemrushApiError as exc:
            raise SemrushApiError(self._mask(exc.message), code=exc.code, transient=exc.transient) from None

    def iter_records(
        self, target: str, *, limit: int, target_type: str = "root_domain"
    ) -> Iterator[tuple[int, list[str]]]:
        """``(line, cells)`` across pages, header first (line 1), at most ``limit`` rows.

        Line numbers continue across pages as if the pages were one file.
        """
        header: list[str] | None = None
        fetched = 0
        while fetched < limit:
            size = min(self.page_size, limit - fetched)
            page = self.fetch_page(target, offset=fetched, limit=size, target_type=target_type)
            if not page.rows:
                break
            if header is None:
                header = page.header
                yield 1, header
            elif page.header != header:
                raise SemrushApiError("the Semrush API changed its columns between pages; try again")
            for cells in page.rows[: limit - fetched]:
                fetched += 1
                yield fetched + 1, cells
            if len(page.rows) < size:
                break
        logger.info("Semrush API: %d backlinks fetched for %s", fetched, target)

    def iter_backlinks(
        self, target: str, *, limit: int, target_type: str = "root_domain"
    ) -> Iterator[BacklinkRow | LineError]:
        """Normalised rows, as ``iter_normalised`` yields them for a file (no rows: no backlinks)."""
        records = self.iter_records(target, limit=limit, target_type=target_type)
        first = next(records, None)
        if first is None:
            return
        convert = IMPORTER.converter(first[1])
        for line, cells in records:
            try:
                yield convert(line, cells)
            except RowError as exc:
                yield LineError(line, exc.field, exc.message)

    def backlinks(
        self, *, target: str, limit: int, target_type: str = "root_domain"
    ) -> Iterator[BacklinkRow | LineError]:
        """``iter_backlinks``, closing the HTTP client when the rows run out (the loader's entry point)."""
        try:
            yield from self.iter_backlinks(target, limit=limit, target_type=target_type)
        finally:
            self.close()

    def write_export(
        self, target: str, out: BinaryIO, *, limit: int, target_type: str = "root_domain"
    ) -> int:
        """Saves the pull as a UTF-8 ``;``-CSV (header of codes, then rows); returns the row count."""
        text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        writer = csv.writer(text, delimiter=";", lineterminator="\n")
        rows = -1
        for _line, cells in self.iter_records(target, limit=limit, target_type=target_type):
            writer.writerow(cells)
            rows += 1
        text.flush()
        text.detach()
        return max(rows, 0)

    def _mask(self, text: str) -> str:
        return text.replace(self._api_key, "***")

    def __enter__(self) -> SemrushClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
