"""Creating prospects: from the gap, from a CSV file, or by hand — always through ``prospects_create``.

One prospect per registrable domain per project (and pipeline). The insert is set-based: one
``INSERT … SELECT unnest(…) ON CONFLICT DO NOTHING RETURNING`` whose data-modifying CTE also
writes each new prospect's first StageChange (blank → In Progress), so 50k domains take one
round trip and a crash can never leave a prospect without its creation in the timeline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone

from linkcrm.lib.domains import DomainError, host_of_url, normalize_host, require_registrable
from prospects.choices import ActorKind, PipelineKind, ProspectSource, Stage
from prospects.models import Note, Project, Prospect, StageChange
from prospects.prospect_csv import ProspectRow, parse_prospects_csv
from prospects.services.pipeline import MAX_TAGS, PipelineError, assignee_check, tags_normalise, tags_parse
from prospects.services.suppression import suppressed_domains

# Letters, digits and inner hyphens per label (punycode included): what a mail domain can be.
# linkcrm.lib.domains also accepts "_" and edge hyphens, which real crawled hosts carry.
_BARE_HOST = re.compile(r"[^\s/:@?#\[\]\\]+")
_LDH_DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


@dataclass(frozen=True)
class CreationResult:
    """What ``prospects_create`` did with the values it was given."""

    created: int = 0
    created_ids: list[int] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)  # already prospects here, or given twice
    suppressed: list[str] = field(default_factory=list)  # on a do-not-contact list
    invalid: list[tuple[str, str]] = field(default_factory=list)  # (value as given, why)


@lru_cache(maxsize=262144)
def prospect_domain(value: str) -> str:
    """The registrable domain a prospect is kept under; raises DomainError saying why not.

    Accepts a URL or a host (``https://blog.Example.co.uk/x`` → ``example.co.uk``). IP
    addresses, names without a public suffix and bare suffixes cannot be prospects.
    """
    text = value.strip()
    if not text:
        raise DomainError("empty value")
    # A bare host needs no URL parsing (what the gap and most CSVs pass).
    host = normalize_host(text) if _BARE_HOST.fullmatch(text) else host_of_url(text)
    domain = require_registrable(host)
    # Stricter than hosts in general: a prospect's domain must be one a mail address can use.
    if not _LDH_DOMAIN.fullmatch(domain):
        raise DomainError(f"{text!r} is not a valid domain name (letters, digits and hyphens only)")
    return domain


def _normalise(values: Iterable[str]) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """(unique domains in first-seen order, domains given more than once, invalid values)."""
    seen: dict[str, None] = {}
    repeated: dict[str, None] = {}
    invalid: list[tuple[str, str]] = []
    for value in values:
        try:
            domain = prospect_domain(value)
        except DomainError as exc:
            invalid.append((value, str(exc)))
            continue
        if domain in seen:
            repeated[domain] = None
        else:
            seen[domain] = None
    return list(seen), list(repeated), invalid


_INSERT_SQL = """
WITH created AS (
    INSERT INTO {prospect} AS p (
        project_id, domain, pipeline, stage, reject_reason, stage_changed_at, person_moved_at,
        assignee_id, source, score, score_breakdown, authority, competitors_linked, tags, flagged,
        flag_reason, linking_page_url, created_by_id, created_at, updated_at)
    SELECT %(project)s, d.domain, %(pipeline)s, %(stage)s, '', %(now)s, NULL,
        %(assignee)s, %(source)s, 0, '{{}}'::jsonb, NULL, 0, %(tags)s::varchar(50)[], false,
        '', '', %(created_by)s, %(now)s, %(now)s
    FROM unnest(%(domains)s::text[]) WITH ORDINALITY AS d(domain, position)
    ORDER BY d.position
    ON CONFLICT ON CONSTRAINT prospect_project_domain_unique DO NOTHING
    RETURNING p.id, p.domain
), logged AS (
    INSERT INTO {stagechange} (
        prospect_id, from_stage, to_stage, actor_kind, actor_id, automation, reason, reject_reason,
        created_at)
    SELECT created.id, '', %(stage)s, %(actor_kind)s, %(created_by)s, %(automation)s, %(reason)s, '', %(now)s
    FROM created
)
SELECT id, domain FROM created ORDER BY id
"""


@transaction.atomic
def prospects_create(
    *,
    project: Project,
    domains: Iterable[str],
    source: str,
    created_by: AbstractBaseUser | None,
    assignee: AbstractBaseUser | None = None,
    pipeline: str = PipelineKind.ACQUISITION,
    tags: Sequence[str] = (),
    automation: str = "",
    reason: str = "",
) -> CreationResult:
    """Create In Progress prospects for ``domains`` (URLs or hosts) in ``project``.

    Values are folded to registrable domains; the same domain given twice, or already a
    prospect of this project and pipeline, is merged (created once) and listed in
    ``duplicates``. Suppressed domains are refused (``suppressed``), unusable values listed in
    ``invalid`` with the reason. Each new prospect gets a StageChange (blank → In Progress) by
    ``created_by``, or by the automation ``automation`` (default ``create.<source>``) when
    nobody is named. Concurrent creators of the same domain cannot make two prospects.
    """
    if source not in ProspectSource.values or pipeline not in PipelineKind.values:
        raise ValueError(f"unknown source {source!r} or pipeline {pipeline!r}")
    assignee_check(project, assignee)
    unique, repeated, invalid = _normalise(domains)
    suppressed = suppressed_domains(project=project, domains=unique)
    wanted = [domain for domain in unique if domain not in suppressed]
    rows = _insert(
        project=project,
        domains=wanted,
        source=source,
        created_by=created_by,
        assignee=assignee,
        pipeline=pipeline,
        tags=tags_normalise(tags),
        automation=automation,
        reason=reason,
    )
    created_domains = {domain for _, domain in rows}
    existing = [domain for domain in wanted if domain not in created_domains]
    return CreationResult(
        created=len(rows),
        created_ids=[pk for pk, _ in rows],
        duplicates=sorted(set(existing) | (set(repeated) - suppressed)),
        suppressed=sorted(suppressed),
        invalid=invalid,
    )


def _insert(
    *,
    project: Project,
    domains: list[str],
    source: str,
    created_by: AbstractBaseUser | None,
    assignee: AbstractBaseUser | None,
    pipeline: str,
    tags: list[str],
    automation: str,
    reason: str,
) -> list[tuple[int, str]]:
    if not domains:
        return []
    by_person = created_by is not None
    sql = _INSERT_SQL.format(prospect=Prospect._meta.db_table, stagechange=StageChange._meta.db_table)
    params = {
        "project": project.pk,
        "pipeline": pipeline,
        "stage": Stage.IN_PROGRESS,
        "now": timezone.now(),
        "assignee": assignee.pk if assignee else None,
        "source": source,
        "tags": tags,
        "created_by": created_by.pk if by_person else None,
        "domains": domains,
        "actor_kind": ActorKind.PERSON if by_person else ActorKind.AUTOMATION,
        "automation": "" if by_person else (automation or f"create.{source}"),
        "reason": reason or f"Created: {ProspectSource(source).label.lower()}",
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(pk, domain) for pk, domain in cursor.fetchall()]


# --- CSV import and manual add ------------------------------------------------------------------


@dataclass(frozen=True)
class LineIssue:
    """A row of an imported file that was not imported as given: where, which field, why."""

    line: int
    field: str
    message: str


@dataclass(frozen=True)
class CsvImportResult:
    """What a CSV import did. ``merged``: rows whose domain was already a prospect (or repeated)."""

    rows: int
    created: int
    merged: list[LineIssue]
    suppressed: list[LineIssue]
    errors: list[LineIssue]


@dataclass
class _Wanted:
    """Everything the file says about one domain, merged over its rows."""

    first_line: int
    tags: list[str]
    assignee: AbstractBaseUser | None
    notes: list[str]


def prospects_import_csv(*, project: Project, data: bytes, created_by: AbstractBaseUser) -> CsvImportResult:
    """Import a CSV list of prospects (see prospects.prospect_csv for the format), in one transaction.

    Raises CsvRefused when the file cannot be read at all (nothing changes). Rows with an
    unusable domain, tag or assignee are skipped and reported with their line. A domain that
    is already a prospect is merged: its tags and notes are added, and the assignee is set
    only if it had none. Suppressed domains are refused and reported.
    """
    rows = parse_prospects_csv(data)
    wanted, errors, merged = _collect_rows(project, rows)
    with transaction.atomic():
        result = prospects_create(
            project=project, domains=list(wanted), source=ProspectSource.CSV, created_by=created_by
        )
        created = set(Prospect.objects.filter(pk__in=result.created_ids).values_list("domain", flat=True))
        suppressed = set(result.suppressed)
        kept = {domain: info for domain, info in wanted.items() if domain not in suppressed}
        cut = _apply_row_details(project=project, wanted=kept, author=created_by)
    merged += [
        LineIssue(info.first_line, "domain", f"{domain} was already a prospect: merged into it")
        for domain, info in kept.items()
        if domain not in created
    ]
    return CsvImportResult(
        rows=len(rows),
        created=result.created,
        merged=sorted(merged, key=lambda issue: issue.line),
        suppressed=[
            LineIssue(wanted[d].first_line, "domain", f"{d} is on a do-not-contact list")
            for d in sorted(suppressed, key=lambda d: wanted[d].first_line)
        ],
        errors=sorted(errors + cut, key=lambda issue: issue.line),
    )


def _collect_rows(
    project: Project, rows: list[ProspectRow]
) -> tuple[dict[str, _Wanted], list[LineIssue], list[LineIssue]]:
    """Validate every row and merge rows of the same domain: (wanted, errors, repeats)."""
    members = _members_by_name(project)
    wanted: dict[str, _Wanted] = {}
    errors: list[LineIssue] = []
    repeats: list[LineIssue] = []
    for row in rows:
        try:
            domain = prospect_domain(row.domain)
        except DomainError as exc:
            errors.append(LineIssue(row.line, "domain", str(exc) if row.domain else "no domain or URL"))
            continue
        try:
            tags = tags_parse(row.tags)
        except PipelineError as exc:
            errors.append(LineIssue(row.line, "tags", str(exc)))
            continue
        assignee = members.get(row.assignee.lower()) if row.assignee else None
        if row.assignee and assignee is None:
            errors.append(
                LineIssue(row.line, "assignee", f"{row.assignee!r} is not a member of {project.name}")
            )
            continue
        info = wanted.get(domain)
        if info is None:
            wanted[domain] = _Wanted(row.line, tags, assignee, [row.notes] if row.notes else [])
            continue
        repeats.append(LineIssue(row.line, "domain", f"{domain} repeats line {info.first_line}: merged"))
        info.tags = tags_normalise([*info.tags, *tags])
        info.assignee = info.assignee or assignee
        info.notes += [row.notes] if row.notes else []
    return wanted, errors, repeats


def _members_by_name(project: Project) -> dict[str, AbstractBaseUser]:
    """Active members by lower-case username and by lower-case email."""
    members: dict[str, AbstractBaseUser] = {}
    for membership in project.memberships.select_related("user").filter(user__is_active=True):
        user = membership.user
        members[user.get_username().lower()] = user
        if user.email:
            members.setdefault(user.email.lower(), user)
    return members


_DETAILS_SQL = """
UPDATE {prospect} AS p
SET assignee_id = v.assignee_id, updated_at = %s,
    tags = ARRAY(SELECT t FROM jsonb_array_elements_text(v.tags::jsonb) WITH ORDINALITY AS x(t, n) ORDER BY n)
FROM unnest(%s::bigint[], %s::bigint[], %s::text[]) AS v(id, assignee_id, tags)
WHERE p.id = v.id
"""


def _apply_row_details(
    *, project: Project, wanted: dict[str, _Wanted], author: AbstractBaseUser
) -> list[LineIssue]:
    """Tags, assignee and notes of the file onto the created and merged prospects, set-based.

    Returns an issue for each prospect whose tags from the file did not all fit (MAX_TAGS).
    """
    detailed = [domain for domain, info in wanted.items() if info.tags or info.assignee or info.notes]
    if not detailed:
        return []
    prospects = (
        Prospect.objects.filter(project=project, pipeline=PipelineKind.ACQUISITION, domain__in=detailed)
        .select_for_update()
        .only("pk", "domain", "tags", "assignee_id")
    )
    rows: list[tuple[int, int | None, str]] = []
    notes: list[Note] = []
    issues: list[LineIssue] = []
    for prospect in prospects:
        info = wanted[prospect.domain]
        tags = tags_normalise([*prospect.tags, *info.tags], limit=None)
        if len(tags) > MAX_TAGS:
            issues.append(LineIssue(info.first_line, "tags", f"only the first {MAX_TAGS} tags were kept"))
            tags = tags[:MAX_TAGS]
        # A merged prospect keeps the person already working it.
        assignee_id = prospect.assignee_id or (info.assignee.pk if info.assignee else None)
        if tags != prospect.tags or assignee_id != prospect.assignee_id:
            rows.append((prospect.pk, assignee_id, json.dumps(tags)))
        notes += [Note(prospect=prospect, author=author, body=body) for body in info.notes]
    if rows:
        ids, assignees, tag_lists = (list(column) for column in zip(*rows, strict=True))
        with connection.cursor() as cursor:
            cursor.execute(
                _DETAILS_SQL.format(prospect=Prospect._meta.db_table),
                [timezone.now(), ids, assignees, tag_lists],
            )
    Note.objects.bulk_create(notes, batch_size=2000)
    return issues


def prospects_add_manually(
    *,
    project: Project,
    text: str,
    created_by: AbstractBaseUser,
    assignee: AbstractBaseUser | None = None,
    tags: Sequence[str] = (),
) -> CreationResult:
    """Domains or URLs typed by a person, one per line (commas and semicolons also separate them).

    Spaces do not separate: "exa mple.com" is reported as invalid, not split into two guesses.
    """
    values = [value.strip() for value in re.split(r"[\n\r,;]+", text) if value.strip()]
    return prospects_create(
        project=project,
        domains=values,
        source=ProspectSource.MANUAL,
        created_by=created_by,
        assignee=assignee,
        tags=tags,
    )
