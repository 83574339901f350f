"""Importing a backlink-gap export straight into a project: Ahrefs Link Intersect, or any CSV mapped.

What the file holds: one row per referring domain and one column per compared site saying
whether (and how often) the domain links to it. Ahrefs Link Intersect names those columns
after the targets as typed, ending in a slash (``example.com/``, ``https://www.example.com/``);
it is recognised from its header alone: a referring-domain column (``Referring domain``,
``Domain``, ``Ref domain``), an optional ``DR`` / ``Domain rating`` column, and every column
whose header is a host or URL ending in ``/``. Semrush's Backlink Gap export is not
recognised: its real header could not be confirmed, so it (and any other gap export) goes
through the generic mapping, which names the domain column, the authority column and scale,
and which column is which site.

Where the rows go (the decision): into audit, as referring-domain facts of each compared site
— exactly what a referring-domains export of that site would add — through the audit loader
(``audit.services.link_import_load_parsed``; one LinkImport per site, not a full snapshot, so nothing is
ever marked lost). The gap page then shows them with everything else, and prospects are
created from the gap as usual. A column naming a site the project does not compare yet adds
it as a competitor (reported); the project's own site may be one of the columns.

A cell is "links" when it holds a count ≥ 1 (thousands separators allowed; the count becomes
the site's reported backlinks from that domain) or a yes-word (``yes``, ``true``, ``x``, ``✓``;
count unknown); empty, ``0``, ``-``, ``no``, ``false`` mean it does not. A row whose domain,
authority or a cell cannot be read is skipped and reported (line, column, why); too many bad
rows, an unknown header or a file without usable rows refuse the whole file and write nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from audit.choices import ImportFormat, Provider
from audit.importers.base import ImportRefused, RefDomainRow, RowError
from audit.importers.reader import ExportReader, normalize_header_cell, open_export
from audit.importers.values import parse_authority
from audit.models import Site
from audit.services import link_import_load_parsed, site_get_or_create
from linkcrm.lib.domains import DomainError, domain_of_url, is_public_suffix
from prospects.models import Project, ProjectCompetitor

DOMAIN_HEADERS = ("referring domain", "domain", "ref domain", "referring domains", "ref. domain")
AUTHORITY_HEADERS = ("dr", "domain rating")
MAX_ROWS = 1_000_000
ROW_ERRORS_KEPT = 1000
# Labels of letters, digits and inner hyphens (punycode included), at least two of them.
_LDH_DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_NO = frozenset({"", "0", "-", "–", "no", "false", "n", "none"})
_YES = frozenset({"yes", "true", "y", "x", "✓", "✔", "+"})
_SCALES = {"ahrefs": (Provider.AHREFS, ImportFormat.AHREFS_REFDOMAINS),
           "semrush": (Provider.SEMRUSH, ImportFormat.SEMRUSH_REFDOMAINS)}  # fmt: skip


@dataclass(frozen=True)
class GapMapping:
    """The generic mapping: which header is the domain, the authority (and its scale), each site."""

    domain: str
    targets: dict[str, str]  # header → site (domain or URL)
    authority: str = ""
    authority_scale: str = "ahrefs"


@dataclass
class GapImportResult:
    rows: int = 0  # data rows read
    skipped: int = 0
    row_errors: list[dict[str, Any]] = field(default_factory=list)  # {line, field, message}
    linking: dict[str, int] = field(default_factory=dict)  # site domain → referring domains stated
    competitors_added: list[str] = field(default_factory=list)
    import_ids: list[int] = field(default_factory=list)

    def skip(self, line: int, column: str, message: str) -> None:
        self.skipped += 1
        if len(self.row_errors) < ROW_ERRORS_KEPT:
            self.row_errors.append({"line": line, "field": column, "message": message})


@dataclass(frozen=True)
class _Layout:
    """Column positions of one file."""

    domain: int
    authority: int | None
    targets: list[tuple[int, str, str]]  # (position, header, site's registrable domain)
    provider: Provider
    format: ImportFormat


def gap_import(
    *, project: Project, stream: BinaryIO, file_name: str, created_by: AbstractBaseUser | None,
    mapping: GapMapping | None = None,
) -> GapImportResult:  # fmt: skip
    """Reads the whole export, then loads it in one transaction: all of it, or nothing.

    Raises ImportRefused (nothing written) for an unreadable file, an unknown header or
    mapping, no usable row, or more bad rows than LINKCRM_IMPORT_MAX_BAD_ROWS /
    LINKCRM_IMPORT_MAX_BAD_RATIO allow.
    """
    result = GapImportResult()
    with open_export(stream, max_bytes=settings.LINKCRM_IMPORT_MAX_DECOMPRESSED_BYTES) as reader:
        layout = _layout(reader, mapping)
        per_site = _read_rows(reader, layout, result)
    _check_bad_rows(result)
    if not any(per_site.values()):
        raise ImportRefused("no row says a domain links to any of the compared sites: nothing was imported")
    with transaction.atomic():
        sites = {domain: site_get_or_create(domain_or_url=domain) for _, _, domain in layout.targets}
        result.competitors_added = _compare_sites(project, list(sites.values()))
        for _, header, domain in layout.targets:
            rows = per_site[domain]
            if rows:
                result.import_ids.append(_load(sites[domain], rows, layout, file_name, header, created_by))
            result.linking[domain] = len(rows)
    return result


def _layout(reader: ExportReader, mapping: GapMapping | None) -> _Layout:
    header = [normalize_header_cell(cell) for cell in reader.header]
    if mapping is not None:
        return _mapped_layout(reader, header, mapping)
    domain = next((header.index(name) for name in DOMAIN_HEADERS if name in header), None)
    authority = next((header.index(name) for name in AUTHORITY_HEADERS if name in header), None)
    targets = [(i, cell.strip(), _target_domain(cell)) for i, cell in enumerate(reader.header)
               if cell.strip().endswith("/")]  # fmt: skip
    if domain is None or not targets:
        raise ImportRefused(
            "this is not an Ahrefs Link Intersect export (a referring-domain column and one column per "
            "compared site named like 'example.com/'): name the columns with the mapping instead",
            line=reader.header_line,
        )
    provider, fmt = _SCALES["ahrefs"]
    return _Layout(domain, authority, _distinct(targets, reader.header_line), provider, fmt)


def _mapped_layout(reader: ExportReader, header: list[str], mapping: GapMapping) -> _Layout:
    def position(name: str, what: str) -> int:
        wanted = normalize_header_cell(name)
        if wanted not in header:
            raise ImportRefused(f"the {what} column {name!r} is not in the header", line=reader.header_line)
        return header.index(wanted)

    if not mapping.domain or not mapping.targets:
        raise ImportRefused("the mapping needs the referring-domain column and at least one site column")
    if mapping.authority_scale not in _SCALES:
        raise ImportRefused(f"unknown authority scale {mapping.authority_scale!r}")
    targets = [(position(name, "site"), name, _target_domain(site)) for name, site in mapping.targets.items()]
    authority = position(mapping.authority, "authority") if mapping.authority else None
    provider, fmt = _SCALES[mapping.authority_scale]
    return _Layout(
        position(mapping.domain, "domain"), authority, _distinct(targets, reader.header_line), provider, fmt
    )


def _target_domain(text: str) -> str:
    """The registrable domain a column stands for; refused when it names none."""
    try:
        domain = domain_of_url(text.strip())
        if is_public_suffix(domain) or not _LDH_DOMAIN.fullmatch(domain):
            raise DomainError(f"{text.strip()!r} is not a registrable domain")
    except DomainError as exc:
        raise ImportRefused(f"column {text.strip()!r} does not name a site: {exc}") from None
    return domain


def _distinct(targets: list[tuple[int, str, str]], line: int) -> list[tuple[int, str, str]]:
    seen: dict[str, str] = {}
    for _, header, domain in targets:
        if domain in seen:
            raise ImportRefused(f"columns {seen[domain]!r} and {header!r} are both {domain}", line=line)
        seen[domain] = header
    return targets


def _read_rows(
    reader: ExportReader, layout: _Layout, result: GapImportResult
) -> dict[str, list[RefDomainRow]]:
    """Every row as RefDomainRows per site (only where the cell says "links"); bad rows skipped."""
    per_site: dict[str, list[RefDomainRow]] = {domain: [] for _, _, domain in layout.targets}
    width = max([layout.domain, layout.authority or 0, *(i for i, _, _ in layout.targets)]) + 1
    for line, cells in reader:
        result.rows += 1
        if result.rows > MAX_ROWS:
            raise ImportRefused(f"more than {MAX_ROWS:,} rows: split the export", line=line)
        try:
            if len(cells) < width:
                raise RowError("row", f"{len(cells)} cells, the header has at least {width}")
            domain = _domain(cells[layout.domain], reader.header[layout.domain])
            authority = (
                parse_authority(cells[layout.authority], "authority")
                if layout.authority is not None
                else None
            )
            links = [(site, _links(cells[i], header)) for i, header, site in layout.targets]
        except RowError as exc:
            result.skip(line, exc.field, exc.message)
            _check_bad_count(result)
            continue
        for site, count in links:
            if count is not False:
                per_site[site].append(
                    RefDomainRow(line, domain, authority=authority, reported_backlinks=count)
                )
    return per_site


def _domain(text: str, column: str) -> str:
    """The registrable domain of a cell (a host or URL); letters, digits and hyphens only."""
    try:
        domain = domain_of_url(text.strip())
    except DomainError as exc:
        raise RowError(column, str(exc)) from None
    if is_public_suffix(domain) or not _LDH_DOMAIN.fullmatch(domain):
        raise RowError(column, f"{text.strip()[:80]!r} is not a registrable domain")
    return domain


def _links(text: str, column: str) -> int | None | bool:
    """A cell → its count, None (links, count unknown) or False (does not link)."""
    value = text.strip().casefold()
    if value in _NO:
        return False
    if value in _YES:
        return None
    digits = value.replace(",", "").replace(" ", "").replace("\u00a0", "").replace("'", "")
    if digits.isdigit() and digits.isascii():
        count = int(digits)
        if count > 2_147_483_647:
            raise RowError(column, f"{text.strip()} is too large")
        return count or False
    raise RowError(column, f"expected a link count or yes/no, got {text.strip()[:40]!r}")


def _check_bad_count(result: GapImportResult) -> None:
    if result.skipped > settings.LINKCRM_IMPORT_MAX_BAD_ROWS:
        raise ImportRefused(
            f"more than {settings.LINKCRM_IMPORT_MAX_BAD_ROWS} malformed rows: "
            "check that this is the export you meant"
        )


def _check_bad_ratio(result: GapImportResult) -> None:
    ratio = settings.LINKCRM_IMPORT_MAX_BAD_RATIO
    if result.rows >= 50 and result.skipped > ratio * result.rows:
        raise ImportRefused(
            f"{result.skipped} of {result.rows} rows are malformed (more than {ratio:.0%}): "
            "check that this is the export you meant"
        )


def _check_bad_rows(result: GapImportResult) -> None:
    _check_bad_count(result)
    _check_bad_ratio(result)


def _compare_sites(project: Project, sites: list[Site]) -> list[str]:
    """Make every column's site compared in the project (its own site stays its own)."""
    added = []
    for site in sites:
        if (
            site.id != project.site_id
            and ProjectCompetitor.objects.get_or_create(project=project, site=site)[1]
        ):
            added.append(site.domain)
    return added


def _load(site: Site, rows: list[RefDomainRow], layout: _Layout, file_name: str, header: str,
          created_by: AbstractBaseUser | None) -> int:  # fmt: skip
    """One site's rows through the audit import service, recorded as a finished LinkImport."""
    link_import = link_import_load_parsed(
        site=site, rows=rows, format=layout.format, provider=layout.provider,
        file_name=f"{file_name} (gap export, column {header})", created_by=created_by,
    )  # fmt: skip
    return link_import.id
