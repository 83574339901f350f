"""Majestic Site Explorer → Backlinks export (no real sample: built from Majestic's columns).

Majestic names the same columns two ways: with spaces in the web export (``Source URL``,
``Anchor Text``, ``Source Trust Flow`` ...) and run together in the API / raw download
(``SourceURL``, ``AnchorText``, ``SourceTrustFlow``, ``FlagNoFollow``, ``FirstIndexedDate``,
``LastSeenDate``, ``DateLost`` ... as in GetBackLinkData). Both are recognised.

| column (either spelling)                     | field                                   |
|----------------------------------------------|-----------------------------------------|
| Source URL / Target URL / Anchor Text        | source_url / target_url / anchor        |
| Source Citation Flow                         | page_authority (Majestic CF of the page)|
| Source Trust Flow                            | domain_authority (Majestic TF)          |
| Flag No Follow                               | nofollow                                |
| Flag Images / Flag Frame / Flag Redirect     | link_type image / frame / redirect      |
| First Indexed Date (also Link First Indexed Date) | first_seen                         |
| Last Seen Date                               | last_seen                               |
| Date Lost; or Flag Deleted → Last Seen Date  | lost_at                                 |

Flags are read leniently: ``+``/``-``, ``true``/``false``, ``1``/``0``, ``yes``/``no``, empty.
"""

from __future__ import annotations

from audit.choices import ImportFormat, ImportKind, Provider
from audit.importers.base import BacklinkRow, FormatSpec
from audit.importers.common import Columns, ConverterOptions, Importer, RowConverter, fit_width, new_row
from audit.importers.values import (
    FRAME,
    IMAGE,
    REDIRECT,
    TEXT,
    memo,
    parse_authority,
    parse_date,
    parse_flag,
    parse_url,
    url_checker,
)

SPEC = FormatSpec(
    format=ImportFormat.MAJESTIC_BACKLINKS,
    kind=ImportKind.BACKLINKS,
    provider=Provider.MAJESTIC,
    required_headers=frozenset(
        {"source url", "target url", "anchor text", "source trust flow", "source citation flow"}
    ),
    optional_headers=frozenset(
        {"flag no follow", "flag images", "flag frame", "flag redirect", "flag deleted", "first indexed date",
         "last seen date", "date lost"}
    ),
    full_snapshot=True,
)
_ALTERNATIVES = (
    frozenset({"sourceurl", "targeturl", "anchortext", "sourcetrustflow", "sourcecitationflow"}),
)
_VALUES = (
    ("source url", "sourceurl"), ("target url", "targeturl"), ("anchor text", "anchortext"),
    ("source citation flow", "sourcecitationflow"), ("source trust flow", "sourcetrustflow"),
    ("first indexed date", "firstindexeddate", "link first indexed date", "first indexed"),
    ("last seen date", "lastseendate", "last seen"), ("date lost", "datelost", "lost date"),
)
_FLAGS = (
    ("flag no follow", "flagnofollow"), ("flag images", "flagimages", "flag image"),
    ("flag frame", "flagframe"), ("flag redirect", "flagredirect"), ("flag deleted", "flagdeleted"),
)


def _flags(cells: tuple[str, ...], field: str) -> tuple[str, bool, bool]:
    """(No follow, Images, Frame, Redirect, Deleted) → (link_type, nofollow, deleted)."""
    nofollow, image, frame, redirect, deleted = cells
    if parse_flag(image, "image"):
        link_type = IMAGE
    elif parse_flag(frame, "frame"):
        link_type = FRAME
    elif parse_flag(redirect, "redirect"):
        link_type = REDIRECT
    else:
        link_type = TEXT
    return link_type, parse_flag(nofollow, "nofollow"), parse_flag(deleted, "deleted")


def build(columns: Columns, options: ConverterOptions) -> RowConverter:
    """The converter for one file, whichever spelling its header uses."""
    values = columns.getter([columns.find(*names) for names in _VALUES])
    flag_cells = columns.getter([columns.find(*names) for names in _FLAGS])
    width = columns.width
    flags = memo(_flags, "flags")
    source_url = url_checker("source_url")
    target_url = memo(parse_url, "target_url")
    cf = memo(parse_authority, "page_authority")
    tf = memo(parse_authority, "domain_authority")
    first_seen = memo(parse_date, "first_seen")
    last_seen = memo(parse_date, "last_seen")
    date_lost = memo(parse_date, "lost_at")

    def convert(line: int, cells: list[str]) -> BacklinkRow:
        if len(cells) != width:
            cells = fit_width(cells, width)
        src, tgt, anchor, citation, trust, first, last, gone = values(cells)
        link_type, nofollow, deleted = flags(flag_cells(cells))
        last_day = last_seen(last)
        lost_at = date_lost(gone) or (last_day if deleted else None)
        return new_row(BacklinkRow, (
            line, source_url(src), target_url(tgt), anchor, "", link_type, nofollow, False, False, None,
            first_seen(first), last_day, lost_at, None, None, None, cf(citation), tf(trust), None, None,
        ))

    return convert


IMPORTER = Importer(spec=SPEC, build=build, alternatives=_ALTERNATIVES)
