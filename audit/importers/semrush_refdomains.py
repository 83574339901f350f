"""Semrush Backlink Analytics → Referring Domains export.

Header: ``Domain ascore,Domain,Backlinks,IP Address,Country,First seen,Last seen``.
``Country`` is already lower-case alpha-2 (often empty); ``IP Address`` is one IPv4/IPv6.
"""

from __future__ import annotations

from audit.choices import ImportFormat, ImportKind, Provider
from audit.importers.base import FormatSpec, RefDomainRow
from audit.importers.common import Columns, ConverterOptions, Importer, RowConverter, fit_width, new_row
from audit.importers.values import (
    memo,
    parse_authority,
    parse_count,
    parse_country,
    parse_date,
    parse_domain,
    parse_ip,
)

SPEC = FormatSpec(
    format=ImportFormat.SEMRUSH_REFDOMAINS,
    kind=ImportKind.REFDOMAINS,
    provider=Provider.SEMRUSH,
    required_headers=frozenset({"domain ascore", "domain", "backlinks"}),
    optional_headers=frozenset({"ip address", "country", "first seen", "last seen"}),
    full_snapshot=True,
)

_COLUMNS = ("domain", "domain ascore", "backlinks", "ip address", "country", "first seen", "last seen")


def build(columns: Columns, options: ConverterOptions) -> RowConverter:
    """The converter for one file: domain, Semrush authority, link count, IP, country, dates."""
    get = columns.getter([columns.find(name) for name in _COLUMNS])
    width = columns.width
    ascore = memo(parse_authority, "authority")
    backlinks = memo(parse_count, "reported_backlinks")
    ip = memo(parse_ip, "ip")
    country = memo(parse_country, "country")
    first_seen = memo(parse_date, "first_seen")
    last_seen = memo(parse_date, "last_seen")

    def convert(line: int, cells: list[str]) -> RefDomainRow:
        if len(cells) != width:
            cells = fit_width(cells, width)
        domain, score, links, address, where, first, last = get(cells)
        return new_row(RefDomainRow, (
            line, parse_domain(domain, "domain"), ascore(score), backlinks(links), ip(address),
            country(where), first_seen(first), last_seen(last), None,
        ))

    return convert


IMPORTER = Importer(spec=SPEC, build=build)
