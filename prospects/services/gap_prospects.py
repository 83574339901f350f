"""Prospects from gap rows: one, a selection, or every row matching the gap's filter.

Creation goes through ``prospects.services.creation.prospects_create`` (one prospect per
registrable domain per project, duplicates merged, do-not-contact refused) and the new
prospects are scored in the same transaction (``prospects.services.scoring``), so a prospect
never shows without its score. A domain given by hand (one or selected rows) must be a row of
the project's gap: anything else is reported as not in the gap and not created.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from prospects.choices import ProspectSource
from prospects.models import Project
from prospects.selectors.gap import GapQuery, gap_domains_counted, gap_domains_present
from prospects.services.creation import prospects_create
from prospects.services.scoring import prospects_rescore

MAX_FROM_FILTER = 50_000


@dataclass(frozen=True)
class GapCreationReport:
    """What creating prospects from gap rows did, domain by domain."""

    created: int = 0
    created_ids: list[int] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)  # already prospects here (merged), or given twice
    suppressed: list[str] = field(default_factory=list)  # on a do-not-contact list: refused
    not_in_gap: list[str] = field(default_factory=list)  # given by hand, but no compared site has a live link
    invalid: list[tuple[str, str]] = field(default_factory=list)  # (value, why) not a usable domain
    left_out: int = 0  # rows matching the filter beyond MAX_FROM_FILTER, not created


@transaction.atomic
def prospects_create_from_gap_rows(
    *, project: Project, domains: Iterable[str], created_by: AbstractBaseUser | None
) -> GapCreationReport:
    """Prospects for the given gap rows (one or a selection), scored."""
    given = [domain.strip().lower() for domain in domains if domain.strip()]
    present = gap_domains_present(project, given)
    in_gap = [domain for domain in given if domain in present]
    not_in_gap = sorted({domain for domain in given if domain not in present})
    return _create(project, in_gap, created_by, not_in_gap=not_in_gap)


@transaction.atomic
def prospects_create_from_gap_filter(
    *, project: Project, query: GapQuery, created_by: AbstractBaseUser | None, limit: int = MAX_FROM_FILTER
) -> GapCreationReport:
    """Prospects for every row of ``query.tab`` matching its filters (all pages), in its sort
    order, at most ``limit``; how many more matched is reported as ``left_out``."""
    domains, matching = gap_domains_counted(project, query, limit=limit)
    return _create(project, domains, created_by, left_out=matching - len(domains))


def _create(
    project: Project, domains: list[str], created_by: AbstractBaseUser | None, *,
    not_in_gap: list[str] | None = None, left_out: int = 0,
) -> GapCreationReport:  # fmt: skip
    result = prospects_create(
        project=project, domains=domains, source=ProspectSource.GAP, created_by=created_by
    )
    if result.created_ids:
        prospects_rescore(project=project, prospect_ids=result.created_ids)
    return GapCreationReport(
        created=result.created, created_ids=result.created_ids, duplicates=result.duplicates,
        suppressed=result.suppressed, not_in_gap=not_in_gap or [], invalid=result.invalid, left_out=left_out,
    )  # fmt: skip
