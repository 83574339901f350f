"""Generic CSV: any export, read through a column mapping ``{field: header cell}``.

The mapping decides the kind: ``source_url`` mapped → one row per link (BACKLINK_FIELDS);
``domain`` mapped → one row per referring domain (REFDOMAIN_FIELDS). Header cells are matched
trimmed and case-insensitively. Values are read leniently: flags as true/false, yes/no, 1/0,
y/n, x/-; dates as ``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM:SS`` or Unix seconds (``03/04/2024`` is
refused: day and month cannot be told apart); scores 0-100, decimals rounded.
Never detected from a header: the user picks it and maps the columns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from audit.choices import ImportFormat, ImportKind, Provider
from audit.importers.base import BacklinkRow, FormatSpec, ImportRefused, RefDomainRow
from audit.importers.common import Columns, ConverterOptions, Importer, RowConverter, fit_width
from audit.importers.values import (
    Memo,
    parse_authority,
    parse_count,
    parse_country,
    parse_date,
    parse_domain,
    parse_flag,
    parse_http_status,
    parse_ip,
    parse_link_type,
    parse_url,
    url_checker,
)

SPEC = FormatSpec(
    format=ImportFormat.GENERIC_CSV,
    kind=ImportKind.BACKLINKS,  # or REFDOMAINS: see kind_of_mapping
    provider=Provider.GENERIC,
    required_headers=frozenset(),
    full_snapshot=False,
)

# field → label shown when mapping columns. Order = BacklinkRow/RefDomainRow order.
BACKLINK_FIELDS: dict[str, str] = {
    "source_url": "Linking page URL (required)",
    "target_url": "Target URL (default: the site's home page)",
    "anchor": "Anchor text",
    "source_title": "Linking page title",
    "link_type": "Link type (text, image, form, frame, redirect)",
    "nofollow": "Nofollow (true/false)",
    "sponsored": "Sponsored (true/false)",
    "ugc": "UGC (true/false)",
    "first_seen": "First seen (YYYY-MM-DD)",
    "last_seen": "Last seen (YYYY-MM-DD)",
    "lost_at": "Lost on (YYYY-MM-DD)",
    "external_links": "External links on the page",
    "internal_links": "Internal links on the page",
    "http_status": "HTTP status of the page",
    "page_authority": "Page authority (0-100)",
    "domain_authority": "Domain authority (0-100)",
}
REFDOMAIN_FIELDS: dict[str, str] = {
    "domain": "Referring domain (required)",
    "authority": "Domain authority (0-100)",
    "reported_backlinks": "Backlinks from the domain",
    "ip": "IP address",
    "country": "Country (two-letter code)",
    "first_seen": "First seen (YYYY-MM-DD)",
    "last_seen": "Last seen (YYYY-MM-DD)",
    "lost_at": "Lost on (YYYY-MM-DD)",
}

_PARSERS: dict[str, Callable[[str, str], object]] = {
    "target_url": parse_url, "link_type": parse_link_type, "nofollow": parse_flag, "sponsored": parse_flag,
    "ugc": parse_flag, "first_seen": parse_date, "last_seen": parse_date, "lost_at": parse_date,
    "external_links": parse_count, "internal_links": parse_count, "http_status": parse_http_status,
    "page_authority": parse_authority, "domain_authority": parse_authority, "authority": parse_authority,
    "reported_backlinks": parse_count, "ip": parse_ip, "country": parse_country,
}
_TEXT_FIELDS = frozenset({"anchor", "source_title"})


def kind_of_mapping(column_mapping: Mapping[str, str]) -> ImportKind:
    """BACKLINKS when source_url is mapped, REFDOMAINS when domain is; otherwise refused."""
    mapped = {name for name, cell in column_mapping.items() if cell and cell.strip()}
    if "source_url" in mapped:
        return ImportKind.BACKLINKS
    if "domain" in mapped:
        return ImportKind.REFDOMAINS
    raise ImportRefused(
        "map a column to source_url (a list of links) or to domain (a list of referring domains)"
    )


def resolve_mapping(columns: Columns, column_mapping: Mapping[str, str]) -> tuple[ImportKind, dict[str, int]]:
    """Checks the mapping against the header: the kind, and field → column index."""
    kind = kind_of_mapping(column_mapping)
    fields = BACKLINK_FIELDS if kind == ImportKind.BACKLINKS else REFDOMAIN_FIELDS
    positions: dict[str, int] = {}
    for name, cell in column_mapping.items():
        if not cell or not cell.strip():
            continue
        if name not in fields:
            raise ImportRefused(
                f"{name!r} is not a field of a {kind.label.lower()} import; known: {', '.join(fields)}"
            )
        position = columns.find(cell.strip().casefold())
        if position is None:
            raise ImportRefused(
                f"the column {cell!r} mapped to {name} is not in the header "
                f"({', '.join(columns.cells)})",
                line=1,
            )
        positions[name] = position
    return kind, positions


def _cell_parsers(positions: Mapping[str, int]) -> dict[str, Callable[[str], object]]:
    """field → memoised parser (plain text fields are kept as they are)."""
    parsers: dict[str, Callable[[str], object]] = {}
    for name in positions:
        if name in _TEXT_FIELDS:
            parsers[name] = str.strip
        elif name == "source_url":
            parsers[name] = url_checker(name)
        elif name == "target_url":  # an empty target means the default (the site's home page)
            target_url = Memo(parse_url, name).__getitem__
            parsers[name] = lambda text, target_url=target_url: target_url(text) if text.strip() else ""
        elif name == "domain":
            parsers[name] = lambda text: parse_domain(text, "domain")
        else:
            parsers[name] = Memo(_PARSERS[name], name).__getitem__
    return parsers


def build(columns: Columns, options: ConverterOptions) -> RowConverter:
    """The converter for one file and mapping; refuses a mapping that does not fit the header."""
    kind, positions = resolve_mapping(columns, options.column_mapping)
    parsers = _cell_parsers(positions)
    width = columns.width
    pairs = [(name, position, parsers[name]) for name, position in positions.items()]
    if kind == ImportKind.REFDOMAINS:
        return _refdomain_converter(pairs, width)
    return _backlink_converter(pairs, width, options.default_target_url or "")


CellParsers = list[tuple[str, int, Callable[[str], object]]]


def _backlink_converter(pairs: CellParsers, width: int, target: str) -> RowConverter:
    def convert(line: int, cells: list[str]) -> BacklinkRow:
        if len(cells) != width:
            cells = fit_width(cells, width)
        values = {name: parse(cells[position]) for name, position, parse in pairs}
        if not values.get("target_url"):
            values["target_url"] = target
        return BacklinkRow(line=line, **values)  # type: ignore[arg-type]

    return convert


def _refdomain_converter(pairs: CellParsers, width: int) -> RowConverter:
    def convert(line: int, cells: list[str]) -> RefDomainRow:
        if len(cells) != width:
            cells = fit_width(cells, width)
        return RefDomainRow(line=line, **{name: parse(cells[position]) for name, position, parse in pairs})  # type: ignore[arg-type]

    return convert


IMPORTER = Importer(spec=SPEC, build=build, kind_of_mapping=kind_of_mapping)
