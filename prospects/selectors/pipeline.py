"""Reads of the pipeline: the board, the table, a prospect's page, and what a person has to do.

The board must stay quick at 10k+ prospects per project: counts come from one ``GROUP BY
stage`` and each column is its own ``LIMIT`` query that walks the ``prospect_board`` index
(project, stage, -score) from the top, so the cost of a column is its page, not its length.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Case, CharField, Count, F, Func, IntegerField, QuerySet, Value, When
from django.utils import timezone

from audit.models import Backlink
from audit.selectors import Page
from prospects.choices import PipelineKind, Stage
from prospects.models import Note, Project, ProjectCompetitor, Prospect, Reminder, StageChange
from prospects.selectors.projects import project_list_for_user

User = get_user_model()

BOARD_PAGE_SIZE = 25
EVIDENCE_LIMIT = 200
# Only what a card shows: the board never loads breakdowns, flags or evidence URLs.
CARD_FIELDS = (
    "id", "project_id", "domain", "stage", "score", "authority", "competitors_linked", "tags",
    "assignee_id", "assignee__username", "assignee__first_name", "assignee__last_name",
    "stage_changed_at", "reject_reason",
)  # fmt: skip


@dataclass(frozen=True)
class BoardFilters:
    """What narrows the board and the table. ``assignee``: '' any, 'me', 'none' or a user id."""

    assignee: str = ""
    score_min: int | None = None
    score_max: int | None = None
    tag: str = ""
    q: str = ""
    pipeline: str = PipelineKind.ACQUISITION

    @property
    def active(self) -> bool:
        return bool(
            self.assignee or self.score_min is not None or self.score_max is not None or self.tag or self.q
        )


def prospects_filtered(
    *, project: Project, filters: BoardFilters, user: AbstractBaseUser
) -> QuerySet[Prospect]:
    """The project's prospects in ``filters.pipeline`` that match the filters (unordered)."""
    qs = Prospect.objects.filter(project=project, pipeline=filters.pipeline)
    return prospects_apply_filters(qs, filters=filters, user=user)


def prospects_apply_filters(
    qs: QuerySet[Prospect], *, filters: BoardFilters, user: AbstractBaseUser
) -> QuerySet[Prospect]:
    """``qs`` narrowed by assignee ('me', 'none', a user id), score range, tag and domain text."""
    if filters.assignee == "me":
        qs = qs.filter(assignee=user)
    elif filters.assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif filters.assignee.isdigit():
        qs = qs.filter(assignee_id=int(filters.assignee))
    if filters.score_min is not None:
        qs = qs.filter(score__gte=filters.score_min)
    if filters.score_max is not None:
        qs = qs.filter(score__lte=filters.score_max)
    if filters.tag:
        qs = qs.filter(tags__contains=[filters.tag.strip().lower()])
    if filters.q:
        qs = qs.filter(domain__icontains=filters.q.strip().lower())
    return qs


def stage_counts(qs: QuerySet[Prospect]) -> dict[str, int]:
    """Prospects per stage (every stage present, zeros included), in one GROUP BY."""
    counts = dict.fromkeys(Stage.values, 0)
    for row in qs.order_by().values("stage").annotate(n=Count("id")):
        counts[row["stage"]] = row["n"]
    return counts


# --- the board ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardColumn:
    """One stage of the board: its total under the filters and one page of cards."""

    stage: str
    label: str
    count: int
    cards: list[Prospect]
    offset: int = 0

    @property
    def remaining(self) -> int:
        return max(0, self.count - self.offset - len(self.cards))

    @property
    def next_offset(self) -> int | None:
        end = self.offset + len(self.cards)
        return end if end < self.count else None


def _column_cards(qs: QuerySet[Prospect], stage: str, *, offset: int, limit: int) -> list[Prospect]:
    # ORDER BY score DESC, id matches the prospect_board index; id only breaks ties.
    rows = qs.filter(stage=stage).select_related("assignee").only(*CARD_FIELDS).order_by("-score", "id")
    return list(rows[offset : offset + limit])


def board_columns(
    *,
    project: Project,
    filters: BoardFilters,
    user: AbstractBaseUser,
    page_size: int = BOARD_PAGE_SIZE,
    offsets: dict[str, int] | None = None,
) -> list[BoardColumn]:
    """Every stage in pipeline order with its count and a page of cards (``offsets`` per stage)."""
    qs = prospects_filtered(project=project, filters=filters, user=user)
    counts = stage_counts(qs)
    offsets = offsets or {}
    return [
        BoardColumn(
            stage=stage,
            label=label,
            count=counts[stage],
            offset=offsets.get(stage, 0),
            cards=_column_cards(qs, stage, offset=offsets.get(stage, 0), limit=page_size)
            if counts[stage]
            else [],
        )
        for stage, label in Stage.choices
    ]


def board_column(
    *,
    project: Project,
    filters: BoardFilters,
    user: AbstractBaseUser,
    stage: str,
    offset: int = 0,
    page_size: int = BOARD_PAGE_SIZE,
) -> BoardColumn:
    """One column's page (the board's "show more")."""
    qs = prospects_filtered(project=project, filters=filters, user=user)
    return BoardColumn(
        stage=stage,
        label=Stage(stage).label,
        count=qs.filter(stage=stage).count(),
        offset=offset,
        cards=_column_cards(qs, stage, offset=offset, limit=page_size),
    )


def project_tags(project: Project, *, limit: int = 200) -> list[str]:
    """The tags in use in a project, most used first (for the filter's suggestions)."""
    rows = (
        Prospect.objects.filter(project=project)
        .exclude(tags=[])
        .annotate(tag=_unnest("tags"))
        .values("tag")
        .annotate(n=Count("id"))
        .order_by("-n", "tag")
    )
    return [row["tag"] for row in rows[:limit]]


def _unnest(column: str) -> Func:
    return Func(F(column), function="unnest", output_field=CharField())


# --- the table ----------------------------------------------------------------------------------

_STAGE_ORDER = Case(
    *(When(stage=s, then=Value(i)) for i, s in enumerate(Stage.values)), output_field=IntegerField()
)
TABLE_SORTS: dict[str, tuple[str, object]] = {
    "score": ("Score", "score"),
    "domain": ("Domain", "domain"),
    "stage": ("Stage", _STAGE_ORDER),
    "assignee": ("Assignee", "assignee__username"),
    "authority": ("Authority", "authority"),
    "competitors": ("Competitors", "competitors_linked"),
    "changed": ("In stage since", "stage_changed_at"),
}


def table_ordering(sort: str) -> list[object]:
    """``-score`` → score descending (nulls last), then id; unknown keys fall back to score."""
    key = sort.lstrip("-")
    descending = sort.startswith("-")
    if key not in TABLE_SORTS:
        key, descending = "score", True
    expression = TABLE_SORTS[key][1]
    if isinstance(expression, str):
        expression = F(expression)
    ordered = expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
    return [ordered, "id"]


def prospect_table(
    *,
    project: Project,
    filters: BoardFilters,
    user: AbstractBaseUser,
    stage: str = "",
    sort: str = "-score",
    page: int = 1,
    per_page: int = 50,
) -> Page:
    """One page of the table of prospects under the filters (and one stage when given)."""
    qs = prospects_filtered(project=project, filters=filters, user=user)
    if stage in Stage.values:
        qs = qs.filter(stage=stage)
    total = qs.count()
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    rows = qs.select_related("assignee").only(*CARD_FIELDS).order_by(*table_ordering(sort))
    start = (page - 1) * per_page
    return Page(rows=list(rows[start : start + per_page]), total=total, page=page, per_page=per_page)


# --- one prospect -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompetitorEvidence:
    """The links one competitor gets from the prospect's domain: the reason it is a prospect."""

    competitor: str
    links: list[Backlink]
    live: int


@dataclass(frozen=True)
class ProspectDetail:
    """Everything the prospect page shows."""

    prospect: Prospect
    evidence: list[CompetitorEvidence]
    evidence_total: int
    links_to_you: int
    timeline: list[StageChange]
    notes: list[Note]
    reminders: list[Reminder]


def prospect_get(*, project: Project, prospect_id: int) -> Prospect:
    """The project's prospect, or Prospect.DoesNotExist (views turn it into a 404)."""
    return Prospect.objects.select_related("assignee", "created_by").get(project=project, pk=prospect_id)


def gap_evidence(
    *, project: Project, domain: str, limit: int = EVIDENCE_LIMIT
) -> tuple[list[CompetitorEvidence], int]:
    """Competitors' backlinks whose source is ``domain``, grouped by competitor; and their total.

    Reads audit.Backlink by (site, source_domain): the backlink_site_domain index.
    """
    competitor_ids = list(ProjectCompetitor.objects.filter(project=project).values_list("site_id", flat=True))
    if not competitor_ids:
        return [], 0
    links = Backlink.objects.filter(site_id__in=competitor_ids, source_domain=domain)
    total = links.count()
    rows = (
        links.select_related("site")
        .only(
            "site__domain",
            "source_url",
            "target_url",
            "anchor",
            "nofollow",
            "sponsored",
            "ugc",
            "first_seen",
            "last_seen",
            "lost_at",
            "source_title",
        )
        .order_by("site__domain", "-lost_at", "source_url")
    )
    grouped: dict[str, list[Backlink]] = defaultdict(list)
    for link in rows[:limit]:
        grouped[link.site.domain].append(link)
    evidence = [
        CompetitorEvidence(
            competitor=name, links=items, live=sum(1 for link in items if link.lost_at is None)
        )
        for name, items in grouped.items()
    ]
    return evidence, total


def prospect_detail(*, project: Project, prospect_id: int) -> ProspectDetail:
    """The prospect with its gap evidence, stage timeline (newest first), notes and reminders."""
    prospect = prospect_get(project=project, prospect_id=prospect_id)
    evidence, total = gap_evidence(project=project, domain=prospect.domain)
    links_to_you = 0
    if project.site_id:
        links_to_you = Backlink.objects.filter(
            site_id=project.site_id, source_domain=prospect.domain, lost_at__isnull=True
        ).count()
    return ProspectDetail(
        prospect=prospect,
        evidence=evidence,
        evidence_total=total,
        links_to_you=links_to_you,
        timeline=list(prospect.stage_changes.select_related("actor").order_by("-created_at", "-id")),
        notes=list(prospect.notes.select_related("author").order_by("-created_at", "-id")),
        reminders=list(
            prospect.reminders.select_related("assignee").order_by(
                F("done_at").asc(nulls_first=True), "due_at"
            )
        ),
    )


def project_members(project: Project) -> list[AbstractBaseUser]:
    """Active members, by username: who prospects can be assigned to."""
    return list(User.objects.filter(memberships__project=project, is_active=True).order_by("username"))


# --- a person's work ----------------------------------------------------------------------------


def reminders_due_for_user(
    user: AbstractBaseUser,
    *,
    now: datetime | None = None,
    within: timedelta = timedelta(days=7),
    limit: int = 50,
) -> list[Reminder]:
    """The user's open reminders due before ``now + within`` (overdue first), in projects they see."""
    now = now or timezone.now()
    visible = project_list_for_user(user).values("pk")
    return list(
        Reminder.objects.filter(assignee=user, done_at__isnull=True, due_at__lt=now + within)
        .filter(prospect__project__in=visible)
        .select_related("prospect", "prospect__project")
        .order_by("due_at", "id")[:limit]
    )


@dataclass(frozen=True)
class StageRow:
    """One project's prospects per stage (pipeline order)."""

    project: Project
    counts: list[tuple[str, str, int]]  # (stage, label, count)

    @property
    def total(self) -> int:
        return sum(count for _, _, count in self.counts)


def _stage_rows(projects: list[Project], counts: dict[int, dict[str, int]]) -> list[StageRow]:
    return [
        StageRow(project=p, counts=[(s, label, counts[p.pk].get(s, 0)) for s, label in Stage.choices])
        for p in projects
    ]


def my_prospects_by_stage(user: AbstractBaseUser) -> list[StageRow]:
    """Prospects assigned to ``user`` per project and stage (projects where they have any)."""
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    rows = (
        Prospect.objects.filter(assignee=user, project__in=project_list_for_user(user).values("pk"))
        .values("project_id", "stage")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        counts[row["project_id"]][row["stage"]] = row["n"]
    projects = list(Project.objects.filter(pk__in=counts).order_by("name"))
    return _stage_rows(projects, counts)


def pipeline_overview(user: AbstractBaseUser) -> list[StageRow]:
    """Every project the user sees with its acquisition pipeline's counts per stage."""
    projects = list(project_list_for_user(user).order_by("name"))
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    rows = (
        Prospect.objects.filter(project__in=[p.pk for p in projects], pipeline=PipelineKind.ACQUISITION)
        .values("project_id", "stage")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        counts[row["project_id"]][row["stage"]] = row["n"]
    return _stage_rows(projects, counts)


def open_reminder_counts(prospect_ids: list[int]) -> dict[int, int]:
    """Open reminders per prospect, for badges on cards."""
    rows = (
        Reminder.objects.filter(prospect_id__in=prospect_ids, done_at__isnull=True)
        .values("prospect_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["prospect_id"]: row["n"] for row in rows}
