"""Ahrefs Site Explorer → Backlinks export.

UTF-16LE with BOM, TAB-separated, every field quoted (the reader handles all that); 37
columns in the current export, of which these are imported:

| header                   | field            | note                                      |
|--------------------------|------------------|-------------------------------------------|
| Referring page URL       | source_url       |                                           |
| Referring page title     | source_title     |                                           |
| Referring page HTTP code | http_status      | 0 / empty → unknown                       |
| Domain rating            | domain_authority | decimals below 10 ("0.9") are rounded     |
| UR                       | page_authority   | idem                                      |
| External links           | external_links   |                                           |
| Target URL               | target_url       |                                           |
| Anchor                   | anchor           |                                           |
| Type                     | link_type        | text, image, redirect, form, frame        |
| Is spam                  | is_spam          |                                           |
| Nofollow / UGC / Sponsored | flags          |                                           |
| First seen / Last seen   | dates            | ``YYYY-MM-DD HH:MM:SS``, the day is kept  |
| Lost                     | lost_at          | empty while the link is live              |
"""

from __future__ import annotations

from audit.choices import ImportFormat, ImportKind, Provider
from audit.importers.base import BacklinkRow, FormatSpec
from audit.importers.common import Columns, ConverterOptions, Importer, RowConverter, fit_width, new_row
from audit.importers.values import (
    memo,
    parse_authority,
    parse_count,
    parse_flag,
    parse_http_status,
    parse_link_type,
    parse_optional_flag,
    parse_url,
    timestamp_date,
    url_checker,
)

SPEC = FormatSpec(
    format=ImportFormat.AHREFS_BACKLINKS,
    kind=ImportKind.BACKLINKS,
    provider=Provider.AHREFS,
    required_headers=frozenset({"referring page url", "target url", "anchor"}),
    optional_headers=frozenset(
        {"referring page title", "referring page http code", "domain rating", "ur", "external links", "type",
         "is spam", "nofollow", "ugc", "sponsored", "first seen", "last seen", "lost"}
    ),
    full_snapshot=True,
)

_VALUES = (
    ("referring page url",), ("target url",), ("anchor",), ("referring page title",),
    ("referring page http code",), ("domain rating", "dr"), ("ur", "url rating"), ("external links",),
    ("first seen",), ("last seen",), ("lost",),
)
_FLAGS = (("type",), ("nofollow",), ("ugc",), ("sponsored",), ("is spam",))


def _flags(cells: tuple[str, ...], field: str) -> tuple[str, bool, bool, bool, bool | None]:
    """(Type, Nofollow, UGC, Sponsored, Is spam) → (link_type, nofollow, ugc, sponsored, is_spam)."""
    kind, nofollow, ugc, sponsored, spam = cells
    return (
        parse_link_type(kind, "link_type"), parse_flag(nofollow, "nofollow"), parse_flag(ugc, "ugc"),
        parse_flag(sponsored, "sponsored"), parse_optional_flag(spam, "is_spam"),
    )


def build(columns: Columns, options: ConverterOptions) -> RowConverter:
    """The converter for one file."""
    values = columns.getter([columns.find(*names) for names in _VALUES])
    flag_cells = columns.getter([columns.find(*names) for names in _FLAGS])
    width = columns.width
    flags = memo(_flags, "flags")
    source_url = url_checker("source_url")
    target_url = memo(parse_url, "target_url")
    status = memo(parse_http_status, "http_status")
    dr = memo(parse_authority, "domain_authority")
    ur = memo(parse_authority, "page_authority")
    external = memo(parse_count, "external_links")
    first_seen = timestamp_date("first_seen")
    last_seen = timestamp_date("last_seen")
    lost = timestamp_date("lost_at")

    def convert(line: int, cells: list[str]) -> BacklinkRow:
        if len(cells) != width:
            cells = fit_width(cells, width)
        src, tgt, anchor, title, code, rating, url_rating, ext, first, last, gone = values(cells)
        link_type, nofollow, ugc, sponsored, spam = flags(flag_cells(cells))
        return new_row(BacklinkRow, (
            line, source_url(src), target_url(tgt), anchor, title, link_type, nofollow, sponsored, ugc, None,
            first_seen(first), last_seen(last), lost(gone), external(ext), None, status(code), ur(url_rating),
            dr(rating), spam, None,
        ))

    return convert


IMPORTER = Importer(spec=SPEC, build=build)
