"""Google Search Console → Links → External links exports (three of the five tables).

| export             | header                               | rows are      |
|--------------------|--------------------------------------|---------------|
| Latest links       | ``Linking page,Last crawled``         | backlinks     |
| More sample links  | ``Linking page``                      | backlinks     |
| Top linking sites  | ``Site,Linking pages,Target pages``   | refdomains    |

Search Console does not say which page of the property a linking page points to: every link
gets the site's root, ``https://<site domain>/`` (``base.site_root_url``), passed to
``Importer.converter(..., default_target_url=...)``. Without it target_url is left empty and
the loader must fill it the same way. ``Last crawled`` becomes ``last_seen``.

These tables are samples (Google shows at most 1,000 rows per table), never a full list:
``full_snapshot`` is False, so a link missing from the next sample is not called lost.
"""

from __future__ import annotations

from audit.choices import ImportFormat, ImportKind, Provider
from audit.importers.base import BacklinkRow, FormatSpec, RefDomainRow
from audit.importers.common import Columns, ConverterOptions, Importer, RowConverter, fit_width, new_row
from audit.importers.values import memo, parse_count, parse_date, parse_domain, url_checker

LATEST_LINKS = FormatSpec(
    format=ImportFormat.GSC_LATEST_LINKS,
    kind=ImportKind.BACKLINKS,
    provider=Provider.GSC,
    required_headers=frozenset({"linking page", "last crawled"}),
    full_snapshot=False,
)
SAMPLE_LINKS = FormatSpec(
    format=ImportFormat.GSC_SAMPLE_LINKS,
    kind=ImportKind.BACKLINKS,
    provider=Provider.GSC,
    required_headers=frozenset({"linking page"}),
    full_snapshot=False,
)
TOP_SITES = FormatSpec(
    format=ImportFormat.GSC_TOP_SITES,
    kind=ImportKind.REFDOMAINS,
    provider=Provider.GSC,
    required_headers=frozenset({"site", "linking pages"}),
    optional_headers=frozenset({"target pages"}),
    full_snapshot=False,
)


def build_links(columns: Columns, options: ConverterOptions) -> RowConverter:
    """Latest links and More sample links: the linking page, and when it was crawled (if given)."""
    get = columns.getter([columns.require("linking page"), columns.find("last crawled")])
    width = columns.width
    target = options.default_target_url or ""
    source_url = url_checker("source_url")
    last_crawled = memo(parse_date, "last_seen")

    def convert(line: int, cells: list[str]) -> BacklinkRow:
        if len(cells) != width:
            cells = fit_width(cells, width)
        page, crawled = get(cells)
        return new_row(BacklinkRow, (
            line, source_url(page), target, "", "", "text", False, False, False, None, None,
            last_crawled(crawled), None, None, None, None, None, None, None, None,
        ))

    return convert


def build_sites(columns: Columns, options: ConverterOptions) -> RowConverter:
    """Top linking sites: the site (a registrable domain or host) and its count of linking pages."""
    get = columns.getter([columns.require("site"), columns.require("linking pages")])
    width = columns.width
    pages = memo(parse_count, "reported_backlinks")

    def convert(line: int, cells: list[str]) -> RefDomainRow:
        if len(cells) != width:
            cells = fit_width(cells, width)
        site, count = get(cells)
        return new_row(
            RefDomainRow, (line, parse_domain(site, "domain"), None, pages(count), None, "", None, None, None)
        )

    return convert


IMPORTERS = (
    Importer(spec=LATEST_LINKS, build=build_links),
    Importer(spec=SAMPLE_LINKS, build=build_links),
    Importer(spec=TOP_SITES, build=build_sites),
)
