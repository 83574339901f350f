"""Semrush Backlink Analytics → Backlinks export ("Export" → CSV or CSV semicolon).

Header (19 columns, UTF-8, ``true``/``false`` flags, ``YYYY-MM-DD`` dates)::

    Page ascore,Source title,Source url,Target url,Anchor,External links,Internal links,
    Nofollow,Sponsored,Ugc,Text,Frame,Form,Image,Sitewide,First seen,Last seen,New link,Lost link

``Lost link`` = true means Semrush saw the link disappear: ``lost_at`` is its ``Last seen``.
Link type: the first true of Image, Frame, Form, Text (Semrush sets exactly one).
This module is the hot path of a million-row import, hence the memo-per-column style, and
``build_copy``: the same rows turned straight into the loader's COPY text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from audit import loading
from audit.choices import ImportFormat, ImportKind, Provider
from audit.importers.base import BacklinkRow, FormatSpec, RowError
from audit.importers.common import (
    Columns,
    ConverterOptions,
    CopyConverter,
    Importer,
    RowConverter,
    fit_width,
    new_row,
)
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
from linkcrm.lib import domains

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


class _Unusual(Exception):
    """The fast path cannot vouch for this row: the regular converter and formatter take it."""


def _vouched(text_of: Callable[[Any], str], limit: int = loading.CACHE_LIMIT) -> Memo[str]:
    """cell → its COPY text via ``text_of``, memoised like the converters' cells (values.Memo);
    a cell that needs the slow path raises _Unusual. Only good values are remembered (bad ones
    are rare and take the slow path every time)."""

    def text(cell: Any, _field: str) -> str:
        try:
            return text_of(cell)
        except (RowError, loading.BadValue):
            raise _Unusual from None

    return Memo(text, "", limit)


# Distinct source origins (scheme://host) of a million-row export: about a quarter million.
# Their memo holds that many (~50 MB at most), so each host is looked up in the public
# suffix list once rather than again every time a smaller memo was emptied.
_ORIGINS_KEPT = 1 << 18


def _origin_text(origin: str) -> str:
    """``scheme://authority`` of a source URL → ``host<TAB>domain`` as the loader derives them."""
    start = 8 if origin.startswith("https://") else 7 if origin.startswith("http://") else 0
    if start and domains.is_plain_host(origin[start:]):
        # A plain lower-case DNS name: clean_origin would accept it unchanged (normalize_host
        # refuses none of these), so only the loader's naming is left to do.
        return "\t".join(loading.host_and_domain(origin[start:], "source_url"))
    match = loading.NETLOC.match(origin)
    if not clean_origin(origin, "source_url") or match is None:
        raise _Unusual
    return "\t".join(loading.host_and_domain(match.group(1), "source_url"))


def _flags_text(cells: tuple[str, ...]) -> str:
    """Flag cells → link_type, nofollow, sponsored, ugc, sitewide as COPY text (lost: see _lost)."""
    link_type, nofollow, sponsored, ugc, sitewide, _lost = _flags(cells, "flags")
    return loading.copy_texts(
        (link_type, "link_type"), (nofollow, "nofollow"), (sponsored, "sponsored"), (ugc, "ugc"),
        (sitewide, "sitewide"),
    )  # fmt: skip


def _checked(parse: Callable[[str, str], Any], field: str, column: str) -> Callable[[str], str]:
    """cell → parsed as the converter parses ``field`` → checked and spelled as the loader
    spells its stage ``column``."""
    return lambda cell: loading.copy_texts((parse(cell, field), column))


def build_copy(columns: Columns, options: ConverterOptions, convert: RowConverter) -> CopyConverter:
    """``build``'s converter, fused with the loader's formatter: cells → one line of COPY text.

    Every cell goes through the same parser and the same check as on the slow path, once per
    distinct value; a row with anything unusual (wrong width, a bad or odd value, text that
    needs escaping) is handed to ``convert`` whole, so its row or its error is exactly the
    slow path's. tests/audit/test_semrush_copy.py compares the two paths line by line.
    """
    values = columns.getter([columns.find(*names) for names in _VALUES])
    flag_cells = columns.getter([columns.find(*names) for names in _FLAGS])
    width = columns.width
    origins = _vouched(_origin_text, _ORIGINS_KEPT)
    flags = _vouched(_flags_text)
    lost = memo(lambda cells, field: _flags(cells, field)[5], "flags")
    target_url = _vouched(lambda cell: parse_url(cell, "target_url"))
    page_ascore = _vouched(_checked(parse_authority, "page_ascore", "page_authority"))
    domain_ascore = _vouched(_checked(parse_authority, "domain_ascore", "domain_authority"))
    external = _vouched(_checked(parse_count, "external_links", "external_links"))
    internal = _vouched(_checked(parse_count, "internal_links", "internal_links"))
    first_seen = _vouched(_checked(parse_date, "first_seen", "first_seen"))
    last_seen = _vouched(_checked(parse_date, "last_seen", "last_seen"))
    null = loading.NULL
    url_key = loading.url_key

    def convert_to_copy(line: int, cells: list[str]) -> str | BacklinkRow:
        try:
            if len(cells) != width:
                raise _Unusual
            pa, title, src, tgt, anchor, ext, intl, fs, ls, da = values(cells)
            flag_key = flag_cells(cells)
            slash = src.find("/", 8)
            host_domain = origins[src if slash < 0 else src[:slash]]
            target = target_url[tgt]
            text = f"{src}\t{target}\t{anchor}\t{title}"
            if src[-1] <= " " or text.count("\t") != 3 or "\\" in text or "\n" in text or "\r" in text:
                raise _Unusual
            if "\x00" in text:
                raise _Unusual
            last = last_seen[ls]
            return (
                f"{line}\t{text}\t{host_domain}\t{flags[flag_key]}\t{first_seen[fs]}\t{last}"
                f"\t{last if lost(flag_key) else null}\t{external[ext]}\t{internal[intl]}\t{null}"
                f"\t{page_ascore[pa]}\t{domain_ascore[da]}\t{null}\t{null}\t{url_key(src, target)}\n"
            )
        except _Unusual:
            return convert(line, cells)

    return convert_to_copy


IMPORTER = Importer(spec=SPEC, build=build, build_copy=build_copy)
