"""Ahrefs Site Explorer → Referring domains export (no real sample: built from public headers).

Same file shape as Ahrefs Backlinks (UTF-16LE, TAB, quoted). Current header::

    Domain, Is spam, DR, Dofollow ref. domains, Dofollow linked domains, Traffic , Keywords ,
    Links to target, New links, Lost links, Dofollow links, First seen, Lost

(``Traffic `` and ``Keywords `` carry trailing spaces; some exports say ``Domain rating``
instead of ``DR`` and have no New/Lost links columns). Imported: Domain → domain, DR →
authority, Links to target → reported_backlinks, First seen, Last seen (if present), Lost.
"""

from __future__ import annotations

from audit.choices import ImportFormat, ImportKind, Provider
from audit.importers.base import FormatSpec, RefDomainRow
from audit.importers.common import Columns, ConverterOptions, Importer, RowConverter, fit_width, new_row
from audit.importers.values import memo, parse_authority, parse_count, parse_domain, timestamp_date

SPEC = FormatSpec(
    format=ImportFormat.AHREFS_REFDOMAINS,
    kind=ImportKind.REFDOMAINS,
    provider=Provider.AHREFS,
    required_headers=frozenset({"domain", "dofollow ref. domains", "links to target"}),
    optional_headers=frozenset(
        {"is spam", "dr", "domain rating", "dofollow linked domains", "traffic", "keywords", "new links",
         "lost links", "dofollow links", "first seen", "last seen", "lost"}
    ),
    full_snapshot=True,
)
# Older exports without the "Dofollow ref. domains" column still name DR and links to target.
_ALTERNATIVES = (
    frozenset({"domain", "dr", "links to target", "dofollow links"}),
    frozenset({"domain", "domain rating", "links to target", "dofollow links"}),
)
_VALUES = (
    ("domain",), ("dr", "domain rating"), ("links to target",), ("first seen",), ("last seen",), ("lost",),
)


def build(columns: Columns, options: ConverterOptions) -> RowConverter:
    """The converter for one file."""
    get = columns.getter([columns.find(*names) for names in _VALUES])
    width = columns.width
    dr = memo(parse_authority, "authority")
    links = memo(parse_count, "reported_backlinks")
    first_seen = timestamp_date("first_seen")
    last_seen = timestamp_date("last_seen")
    lost = timestamp_date("lost_at")

    def convert(line: int, cells: list[str]) -> RefDomainRow:
        if len(cells) != width:
            cells = fit_width(cells, width)
        domain, rating, count, first, last, gone = get(cells)
        return new_row(RefDomainRow, (
            line, parse_domain(domain, "domain"), dr(rating), links(count), None, "", first_seen(first),
            last_seen(last), lost(gone),
        ))

    return convert


IMPORTER = Importer(spec=SPEC, build=build, alternatives=_ALTERNATIVES)
