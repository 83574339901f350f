"""Semrush Backlink Analytics → Backlinks export ("Export" → CSV or CSV semicolon).

Header (19 columns, UTF-8, ``true``/``false`` flags, ``YYYY-MM-DD`` dates)::

    Page ascore,Source title,Source url,Target url,Anchor,External links,Internal links,
    Nofollow,Sponsored,Ugc,Text,Frame,Form,Image,Sitewide,First seen,Last seen,New link,Lost link

``Lost link`` = true means Semrush saw the link disappear: ``lost_at`` is its ``Last seen``.
Link type: the first true of Image, Frame, Form, Text (Semrush sets exactly one).
This module is the hot path of a million-row import, hence the memo-per-column style.
"""

from __future__ import annotations

from audit.choices import ImportFormat, ImportKind, Provider
from audit.importers.base import BacklinkRow, FormatSpec
from audit.importers.common import Columns, ConverterOptions, Importer, RowConverter, fit_width, new_row
from audit.importers.values import (
    FORM,
    FRAME,
    IMAGE,
    OTHER,
    TEXT,
    Memo,
    clean_origin,
    memo,
    parse_authority,
    parse_count,
    parse_date,
    parse_flag,
    parse_optional_flag,
    parse_url,
)

SPEC = FormatSpec(
    format=ImportFormat.SEMRUSH_BACKLINKS,
    kind=ImportKind.BACKLINKS,
    provider=Provider.SEMRUSH,
    required_headers=frozenset(
        {"page ascore", "source url", "target url", "anchor", "external links", "internal links",
         "first seen", "last seen"}
    ),
    optional_headers=frozenset(
        {"source title", "nofollow", "sponsored", "ugc", "text", "frame", "form", "image", "sitewide",
         "new link", "lost link", "domain ascore"}
    ),
    full_snapshot=True,
)

# The cells the converter unpacks, in order, each with its spellings: the export's header,
# then the Semrush API's column code (semrush_api.py reuses this converter).
_VALUES = (
    ("page ascore", "page_ascore"), ("source title", "source_title"), ("source url", "source_url"),
    ("target url", "target_url"), ("anchor",), ("external links", "external_num"),
    ("internal links", "internal_num"), ("first seen", "first_seen"), ("last seen", "last_seen"),
    ("domain ascore", "domain_ascore"),
)
# Read as one group: see _flags.
_FLAGS = (
    ("text",), ("frame",), ("form",), ("image",), ("nofollow",), ("sponsored",), ("ugc",),
    ("sitewide",), ("lost link", "lostlink"),
)


def _flags(cells: tuple[str, ...], field: str) -> tuple[str, bool, bool, bool, bool | None, bool]:
    """The flag cells → (link_type, nofollow, sponsored, ugc, sitewide, lost).

    Files hold only a handful of distinct flag combinations, so this runs a few times per
    file and the converter pays one dict lookup for all nine cells.
    """
    text, frame, form, image, nofollow, sponsored, ugc, sitewide, lost = cells
    if parse_flag(image, "image"):
        link_type = IMAGE
    elif parse_flag(frame, "frame"):
        link_type = FRAME
    elif parse_flag(form, "form"):
        link_type = FORM
    else:  # a file without a Text column means text
        link_type = TEXT if parse_flag(text, "text") or not text.strip() else OTHER
    return (
        link_type, parse_flag(nofollow, "nofollow"), parse_flag(sponsored, "sponsored"),
        parse_flag(ugc, "ugc"), parse_optional_flag(sitewide, "sitewide"), parse_flag(lost, "lost_link"),
    )


def build(columns: Columns, options: ConverterOptions) -> RowConverter:
    """The converter for one file; column positions and memos are fixed here, once."""
    values = columns.getter([columns.find(*names) for names in _VALUES])
    flag_cells = columns.getter([columns.find(*names) for names in _FLAGS])
    width = columns.width
    flags = memo(_flags, "flags")
    origins = Memo(clean_origin, "source_url")
    target_url = memo(parse_url, "target_url")
    page_ascore = memo(parse_authority, "page_ascore")
    domain_ascore = memo(parse_authority, "domain_ascore")
    external = memo(parse_count, "external_links")
    internal = memo(parse_count, "internal_links")
    first_seen = memo(parse_date, "first_seen")
    last_seen = memo(parse_date, "last_seen")

    def convert(line: int, cells: list[str]) -> BacklinkRow:
        if len(cells) != width:
            cells = fit_width(cells, width)
        pa, title, src, tgt, anchor, ext, intl, fs, ls, da = values(cells)
        link_type, nofollow, sponsored, ugc, sitewide, lost = flags(flag_cells(cells))
        # values.url_checker inlined: a function call per row is measurable at 1M rows.
        slash = src.find("/", 8)
        if not (origins[src if slash < 0 else src[:slash]] and src[-1] > " "):
            src = parse_url(src, "source_url")
        last = last_seen(ls)
        return new_row(BacklinkRow, (
            line, src, target_url(tgt), anchor, title, link_type, nofollow, sponsored, ugc,
            sitewide, first_seen(fs), last, last if lost else None, external(ext), internal(intl), None,
            page_ascore(pa), domain_ascore(da), None, None,
        ))

    return convert


IMPORTER = Importer(spec=SPEC, build=build)
