"""Which format a file is (from its header only), and the stream of normalised rows.

    reader = open_export(stream, max_bytes=...)
    spec = detect_format(reader.normalized_header)          # ImportRefused if unknown
    convert = importer_for(spec.format).converter(reader.header, default_target_url=...)
    for item in iter_normalised(reader, convert):           # BacklinkRow | RefDomainRow | LineError
        ...

The file name never matters. When several formats match, the one whose required headers are
the most specific (the most of them) wins; a tie is refused rather than guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from audit.choices import ImportFormat
from audit.importers import (
    ahrefs_backlinks,
    ahrefs_refdomains,
    generic,
    gsc,
    majestic,
    semrush_audit,
    semrush_backlinks,
    semrush_refdomains,
)
from audit.importers.base import BacklinkRow, FormatSpec, ImportRefused, LineError, RefDomainRow, RowError
from audit.importers.common import Importer, RowConverter
from audit.importers.reader import ExportReader, normalize_header_cell
from audit.importers.refused import RECOGNISED
from audit.importers.semrush_api import IMPORTER as SEMRUSH_API_IMPORTER

NormalisedItem = BacklinkRow | RefDomainRow | LineError

IMPORTERS: dict[ImportFormat, Importer] = {
    importer.spec.format: importer
    for importer in (
        semrush_backlinks.IMPORTER,
        semrush_refdomains.IMPORTER,
        semrush_audit.IMPORTER,
        SEMRUSH_API_IMPORTER,
        ahrefs_backlinks.IMPORTER,
        ahrefs_refdomains.IMPORTER,
        *gsc.IMPORTERS,
        majestic.IMPORTER,
        generic.IMPORTER,
    )
}

_MAX_SHOWN_CELLS = 25


def importer_for(format: ImportFormat | str) -> Importer:
    """The importer of a format value (``LinkImport.format``); ImportRefused if unsupported."""
    try:
        return IMPORTERS[ImportFormat(format)]
    except (ValueError, KeyError):
        raise ImportRefused(f"unsupported import format {format!r}") from None


def detect_format(normalized_header: Sequence[str]) -> FormatSpec:
    """The format whose required headers the header holds (see module docstring)."""
    header = frozenset(normalize_header_cell(cell) for cell in normalized_header)
    scored = [(importer.match_score(header), importer) for importer in IMPORTERS.values()]
    best = max(score for score, _ in scored)
    if best:
        winners = [importer for score, importer in scored if score == best]
        if len(winners) == 1:
            return winners[0].spec
        names = " or ".join(importer.spec.format.label for importer in winners)
        raise ImportRefused(
            f"the header fits {names} equally well; choose Generic CSV and map the columns", line=1
        )
    for recognised in RECOGNISED:
        if recognised.matches(header):
            raise ImportRefused(recognised.message, line=1)
    raise ImportRefused(_unknown_message(normalized_header), line=1)


def _unknown_message(header: Sequence[str]) -> str:
    shown = ", ".join(repr(cell[:40]) for cell in header[:_MAX_SHOWN_CELLS])
    if len(header) > _MAX_SHOWN_CELLS:
        shown += f", ... ({len(header)} columns)"
    known = "; ".join(
        f"{importer.spec.format.label} ({', '.join(sorted(importer.spec.required_headers))})"
        for importer in IMPORTERS.values()
        if importer.spec.required_headers
    )
    return (
        f"the header does not match any supported export. It reads: {shown}. "
        f"Supported exports and the columns that identify them: {known}. "
        "For another tool's export, choose Generic CSV and map its columns."
    )


def iter_normalised(
    reader: ExportReader | Iterable[tuple[int, list[str]]], converter: RowConverter
) -> Iterator[NormalisedItem]:
    """Every row converted; an unusable row comes out as ``LineError(line, field, message)``.

    File-level problems found while streaming (bad bytes, over the size limit) raise
    ImportRefused: the loader must then discard everything it staged.
    """
    if isinstance(reader, ExportReader):
        return reader.convert_rows(converter, catch=(RowError,), on_error=_line_error)
    return _convert_pairs(reader, converter)


def _line_error(line: int, exc: Exception) -> LineError:
    assert isinstance(exc, RowError)
    return LineError(line, exc.field, exc.message)


def _convert_pairs(
    pairs: Iterable[tuple[int, list[str]]], converter: RowConverter
) -> Iterator[NormalisedItem]:
    for line, cells in pairs:
        try:
            yield converter(line, cells)
        except RowError as exc:
            yield LineError(line, exc.field, exc.message)
