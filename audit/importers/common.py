"""What every format module builds on: the ``Importer`` record and header-column lookup.

A format module declares a ``FormatSpec`` and a ``build(columns, options)`` function that
returns the row converter. ``build`` runs once per file: it resolves the header cells it
needs to indexes, so converting a row is an ``itemgetter`` call plus memoised lookups.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter

from audit.choices import ImportKind
from audit.importers.base import BacklinkRow, FormatSpec, ImportRefused, RefDomainRow, RowError
from audit.importers.reader import normalize_header_cell

RowConverter = Callable[[int, list[str]], BacklinkRow | RefDomainRow]
# A loader-side converter: a row's COPY text (audit.loading.BACKLINK_STAGE_COLUMNS) when the
# fast path can vouch for it, else the regular converter's row (or its RowError).
CopyConverter = Callable[[int, list[str]], "str | BacklinkRow | RefDomainRow"]

# namedtuple's generated __new__ is a Python frame per row; tuple.__new__ is not.
new_row = tuple.__new__


@dataclass(frozen=True)
class ConverterOptions:
    """Per-import facts a converter may need besides the header."""

    column_mapping: Mapping[str, str] = field(default_factory=dict)
    # Exports without a target column (Search Console) link to the site itself:
    # base.site_root_url(site.domain). None leaves target_url empty for the loader to fill.
    default_target_url: str | None = None


class Columns:
    """The header of one file, searchable by normalised name (see reader.normalize_header_cell)."""

    def __init__(self, header_cells: Sequence[str]) -> None:
        self.cells = list(header_cells)
        self.normalized = [normalize_header_cell(cell) for cell in header_cells]
        self.width = len(self.cells)
        self._index: dict[str, int] = {}
        for position, name in enumerate(self.normalized):
            self._index.setdefault(name, position)

    def find(self, *names: str) -> int | None:
        """Index of the first of ``names`` (normalised spellings) present, else None."""
        for name in names:
            position = self._index.get(name)
            if position is not None:
                return position
        return None

    def require(self, *names: str) -> int:
        """Like find, but a missing column refuses the file (detection should prevent it)."""
        position = self.find(*names)
        if position is None:
            raise ImportRefused(f"the header has no {names[0]!r} column", line=1)
        return position

    def getter(self, positions: Sequence[int | None]) -> Callable[[list[str]], tuple[str, ...]]:
        """Cells at ``positions`` as a tuple; a None position reads as an empty cell.

        Call it on rows already checked by ``fit_width`` (exactly ``width`` cells).
        """
        if all(position is not None for position in positions):
            if len(positions) == 1:
                only = positions[0]
                return lambda cells: (cells[only],)  # type: ignore[index]
            return itemgetter(*positions)  # type: ignore[arg-type]
        present = [position for position in positions if position is not None]
        missing = len(positions) - len(present)
        if len(present) > 1 and all(position is None for position in positions[len(present):]):
            # Only trailing columns missing (the common case): concatenating a constant
            # tuple is cheaper than padding every row.
            pick_present, tail = itemgetter(*present), ("",) * missing
            return lambda cells: pick_present(cells) + tail  # type: ignore[operator]
        padded = [self.width if position is None else position for position in positions]
        pick = itemgetter(*padded)
        pad = [""]
        if len(padded) == 1:
            return lambda cells: ((cells + pad)[padded[0]],)
        return lambda cells: pick(cells + pad)


def fit_width(cells: list[str], width: int) -> list[str]:
    """The row if it has ``width`` cells; trailing empty extras are dropped; else RowError."""
    if len(cells) > width and not any(cell.strip() for cell in cells[width:]):
        return cells[:width]
    raise RowError(
        "row",
        f"expected {width} cells but found {len(cells)} (a quote or delimiter inside a value "
        "may not be escaped)",
    )


@dataclass(frozen=True)
class Importer:
    """One supported format: its spec, how its converter is built, how it is recognised.

    ``alternatives`` are further header sets (normalised) that identify the same format,
    e.g. Majestic's API-style ``sourceurl`` spelling; ``spec.required_headers`` is the main one.
    ``build_copy`` (optional) wraps the converter into a CopyConverter for formats that come
    in millions of rows; it must give exactly the text the loader would format from the row.
    """

    spec: FormatSpec
    build: Callable[[Columns, ConverterOptions], RowConverter]
    alternatives: tuple[frozenset[str], ...] = ()
    kind_of_mapping: Callable[[Mapping[str, str]], ImportKind] | None = None
    build_copy: Callable[[Columns, ConverterOptions, RowConverter], CopyConverter] | None = None

    def converter(
        self,
        header_cells: Sequence[str],
        column_mapping: Mapping[str, str] | None = None,
        *,
        default_target_url: str | None = None,
    ) -> RowConverter:
        """The row converter for a file with this header: ``convert(line, cells) -> row``.

        It raises RowError(field, message) for an unusable row. ``default_target_url`` is the
        target for formats that have none (Search Console): pass site_root_url(site.domain).
        """
        options = ConverterOptions(
            column_mapping=dict(column_mapping or {}), default_target_url=default_target_url
        )
        return self.build(Columns(header_cells), options)

    def load_converter(
        self,
        header_cells: Sequence[str],
        column_mapping: Mapping[str, str] | None = None,
        *,
        default_target_url: str | None = None,
    ) -> RowConverter | CopyConverter:
        """What the loader runs per row: ``build_copy``'s fast path when the format has one,
        else the plain converter (see ``converter``). Same rows, same errors either way."""
        options = ConverterOptions(
            column_mapping=dict(column_mapping or {}), default_target_url=default_target_url
        )
        columns = Columns(header_cells)
        convert = self.build(columns, options)
        if self.build_copy is None or options.column_mapping:
            return convert
        return self.build_copy(columns, options, convert)

    def kind_for(self, column_mapping: Mapping[str, str] | None = None) -> ImportKind:
        """The row kind this import yields (the generic importer decides by its mapping)."""
        if self.kind_of_mapping is not None:
            return self.kind_of_mapping(column_mapping or {})
        return self.spec.kind

    def match_score(self, header: frozenset[str]) -> int:
        """How many required headers matched (0 when some are missing): larger is surer."""
        if not self.spec.required_headers:
            return 0  # never detected by header (generic CSV)
        best = 0
        for required in (self.spec.required_headers, *self.alternatives):
            if required <= header:
                best = max(best, len(required))
        return best

