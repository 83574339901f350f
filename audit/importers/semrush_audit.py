"""Semrush Backlink Audit export (2026 format, one row per link).

Header::

    Domain Authority Score,Page Authority Score,Source URL,Source Page Title,Source Domain,
    Target URL,Anchor,Anchor Type,Link Type,No Follow,Toxic Score,First Seen,Last Seen,Comment

``Link Type`` is the HTML element: ``a`` → text, ``img`` → image, ``iframe`` → frame.
``Toxic Score`` (0-100) is kept for the toxicity audit. ``Anchor Type`` (branded, money ...)
is Semrush's own opinion and is not imported: LinkCRM classifies anchors itself.
An audit covers the links Semrush analysed, not every link: not a full snapshot.
"""

from __future__ import annotations

from audit.choices import ImportFormat, ImportKind, Provider
from audit.importers.base import BacklinkRow, FormatSpec
from audit.importers.common import Columns, ConverterOptions, Importer, RowConverter, fit_width, new_row
from audit.importers.values import (
    memo,
    parse_authority,
    parse_date,
    parse_flag,
    parse_link_type,
    parse_url,
    url_checker,
)

SPEC = FormatSpec(
    format=ImportFormat.SEMRUSH_AUDIT,
    kind=ImportKind.BACKLINKS,
    provider=Provider.SEMRUSH,
    required_headers=frozenset({"source url", "target url", "anchor", "link type", "toxic score"}),
    optional_headers=frozenset(
        {"domain authority score", "page authority score", "source page title", "source domain",
         "anchor type", "no follow", "first seen", "last seen", "comment"}
    ),
    full_snapshot=False,
)

_COLUMNS = (
    "source url", "target url", "anchor", "source page title", "link type", "no follow",
    "first seen", "last seen", "page authority score", "domain authority score", "toxic score",
)


def build(columns: Columns, options: ConverterOptions) -> RowConverter:
    """The converter for one file."""
    get = columns.getter([columns.find(name) for name in _COLUMNS])
    width = columns.width
    source_url = url_checker("source_url")
    target_url = memo(parse_url, "target_url")
    link_type = memo(parse_link_type, "link_type")
    nofollow = memo(parse_flag, "nofollow")
    first_seen = memo(parse_date, "first_seen")
    last_seen = memo(parse_date, "last_seen")
    page_score = memo(parse_authority, "page_authority")
    domain_score = memo(parse_authority, "domain_authority")
    toxic = memo(parse_authority, "toxic_score")

    def convert(line: int, cells: list[str]) -> BacklinkRow:
        if len(cells) != width:
            cells = fit_width(cells, width)
        src, tgt, anchor, title, kind, nf, first, last, page, domain, score = get(cells)
        return new_row(BacklinkRow, (
            line, source_url(src), target_url(tgt), anchor, title, link_type(kind), nofollow(nf), False,
            False, None, first_seen(first), last_seen(last), None, None, None, None, page_score(page),
            domain_score(domain), None, toxic(score),
        ))

    return convert


IMPORTER = Importer(spec=SPEC, build=build)
