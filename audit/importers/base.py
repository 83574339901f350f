"""The contract between format importers and the loader.

An importer turns an export file into a stream of *normalised rows*: plain tuples in the
column order below, so a million rows cost no more than a million tuples. The loader
(`audit/loading.py`) adds the site, derives hosts and registrable domains, COPYs the tuples
into a staging table and merges them set-based.

- Detection is by the header row only (cells trimmed and case-folded), never the file name.
- A row that cannot be used raises ``RowError`` from the row converter; the loader records
  it (line, field, message), skips the row and goes on. File-level problems (unknown header,
  undecodable bytes, empty file, over the size limit) raise ``ImportRefused``: nothing is
  written.
- ``line`` is the 1-based physical line number of the row in the decoded file (the header
  is line 1), so a user can find it in a text editor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from audit.choices import ImportFormat, ImportKind, Provider


class RowError(ValueError):
    """One row is unusable: which field, and why. The loader adds the line number."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


class ImportRefused(ValueError):
    """The whole file is refused; ``line`` is set when one line is to blame (e.g. the header)."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message if line is None else f"line {line}: {message}")
        self.message = message
        self.line = line


class LineError(NamedTuple):
    """A skipped row in the stream: where and why (what the user sees in the error report)."""

    line: int
    field: str
    message: str


class BacklinkRow(NamedTuple):
    """One link, normalised. Authority values are on the import's provider's own scale."""

    line: int
    source_url: str
    target_url: str
    anchor: str = ""
    source_title: str = ""
    link_type: str = "text"  # audit.choices.LinkType value
    nofollow: bool = False
    sponsored: bool = False
    ugc: bool = False
    sitewide: bool | None = None
    first_seen: str | None = None  # ISO date YYYY-MM-DD
    last_seen: str | None = None
    lost_at: str | None = None  # the export says the link is lost (e.g. Semrush "Lost link")
    external_links: int | None = None
    internal_links: int | None = None
    http_status: int | None = None
    page_authority: int | None = None  # Semrush Page ascore / Ahrefs UR / Majestic source CF
    domain_authority: int | None = None  # Semrush Domain ascore / Ahrefs DR / Majestic source TF
    is_spam: bool | None = None  # Ahrefs "Is spam"
    toxic_score: int | None = None  # Semrush Backlink Audit "Toxic Score"


class RefDomainRow(NamedTuple):
    """One referring domain, normalised."""

    line: int
    domain: str
    authority: int | None = None  # Semrush Domain ascore / Ahrefs DR
    reported_backlinks: int | None = None
    ip: str | None = None
    country: str = ""  # ISO alpha-2, lower case, or empty
    first_seen: str | None = None
    last_seen: str | None = None
    lost_at: str | None = None


@dataclass(frozen=True)
class FormatSpec:
    """What an importer declares about the export it reads."""

    format: ImportFormat
    kind: ImportKind
    provider: Provider
    required_headers: frozenset[str]  # trimmed, case-folded; all must be present
    optional_headers: frozenset[str] = field(default_factory=frozenset)
    # Complete exports let the loader mark links missing from them as lost.
    full_snapshot: bool = True


def site_root_url(domain: str) -> str:
    """The target URL given to links from exports that name no target (Search Console).

    Search Console lists pages linking *to the property*, not which page they link to; the
    site's root stands in, so every such link has a real, stable target.
    """
    return f"https://{domain}/"
