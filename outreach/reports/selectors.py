"""Report reads: every figure is one SQL aggregate over the stage log, the outbox and the inbox.

Nothing here loops over rows in Python; Python only names the groups (a few dozen labels) and
zero-fills week labels. The definitions are the texts in ``outreach.reports.formulas``.

Scope (``ReportFilter``): the acquisition pipeline only; optionally one project; and, for
outreach staff, only *their own* prospects — assigned to them, or enrolled by them, or emailed
from a mailbox they own. Managers and admins see everyone's. The scope is applied in SQL
here, so no view can forget it.

SQL is assembled from fixed fragments in this module only; every value (dates, ids, stage
names, the time zone) is a bound parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction

from audit.models import Site
from linkcrm.choices import Role
from linkcrm.permissions import has_role
from outreach.choices import MessageKind, OutboxStatus
from outreach.models import EmailTemplate, Mailbox, TemplateVersion
from outreach.models import Sequence as OutreachSequence
from outreach.reports import facts
from outreach.reports.concurrent import run_together
from outreach.reports.formulas import rate
from prospects.choices import STAGE_RANK, PipelineKind, Stage
from prospects.linkcheck import LOSS_STATUSES
from prospects.models import Project

ORDERED_STAGES: tuple[str, ...] = tuple(sorted(STAGE_RANK, key=STAGE_RANK.__getitem__))
FUNNEL_STAGES: tuple[str, ...] = (*ORDERED_STAGES, Stage.REJECTED)
# Stages a prospect is being worked in: "stale" when nothing happened there for a while.
ACTIVE_STAGES: tuple[str, ...] = (Stage.TO_CONTACT, Stage.CONTACTED, Stage.REPLY_RECEIVED)


# --- the filter ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFilter:
    """What a report counts: a period of whole days (both ends included), a project or all, a scope.

    ``user_id`` None means everyone's numbers (managers, admins); an id limits every figure
    to that outreach user's own prospects.
    """

    start: date
    end: date
    project_id: int | None = None
    user_id: int | None = None
    tz: str = field(default_factory=lambda: settings.TIME_ZONE)

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=ZoneInfo(self.tz))

    @property
    def end_at(self) -> datetime:
        """The first moment after the period (midnight after ``end``)."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=ZoneInfo(self.tz))

    def month_starts(self) -> list[datetime]:
        """The first moment of every calendar month (in ``tz``) touching the period, in order.

        Queries bucket a time into its month with ``width_bucket`` over these instants: a binary
        search, where converting every row's time to local time would cost a time-zone lookup each.
        """
        first, months = self.start.replace(day=1), []
        while first <= self.end:
            months.append(datetime.combine(first, time.min, tzinfo=ZoneInfo(self.tz)))
            first = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        return months

    @cached_property
    def own_prospect_ids(self) -> list[int]:
        """The outreach user's own prospects (see ``_OWN_SQL``), read on first use: one filter per page view."""
        with connection.cursor() as cursor:
            cursor.execute(_OWN_SQL, {"uid": self.user_id})
            return [row[0] for row in cursor.fetchall()]

    def params(self) -> dict[str, Any]:
        """The bound parameters every report query may use."""
        own = self.own_prospect_ids if self.user_id is not None else None
        return {
            "start": self.start_at, "end": self.end_at, "project": self.project_id, "uid": self.user_id,
            "tz": self.tz, "pipeline": PipelineKind.ACQUISITION, "sent": OutboxStatus.SENT,
            "reply": MessageKind.REPLY, "bounce": MessageKind.BOUNCE, "acquired": Stage.LINK_ACQUIRED,
            "loss": sorted(LOSS_STATUSES), "active": list(ACTIVE_STAGES), "months": self.month_starts(),
            "own": own,
        }  # fmt: skip


def scope_user_id(user: AbstractBaseUser) -> int | None:
    """None (everyone's numbers) for managers and admins; the user's own id for outreach staff."""
    return None if has_role(user, Role.MANAGER) else user.pk


# A prospect is an outreach user's own when assigned to them, enrolled by them, or emailed from
# their mailbox. The set is read once per ReportFilter (``own_prospect_ids``) and bound into every
# query of the page as one array (hashed by PostgreSQL), rather than rebuilt by each of a page's
# eight queries (a scan of the mailbox's whole outbox each time).
_OWN_SQL = """
SELECT id FROM prospects_prospect WHERE assignee_id = %(uid)s
UNION SELECT prospect_id FROM outreach_enrollment WHERE enrolled_by_id = %(uid)s
UNION SELECT prospect_id FROM outreach_outboundmessage
      WHERE prospect_id IS NOT NULL AND mailbox_id IN (SELECT id FROM outreach_mailbox WHERE owner_id = %(uid)s)
"""


def scope_sql(report: ReportFilter, alias: str = "p") -> str:
    """The WHERE fragment limiting prospect ``alias`` to the filter's pipeline, project and person."""
    parts = [f"{alias}.pipeline = %(pipeline)s"]
    if report.project_id is not None:
        parts.append(f"{alias}.project_id = %(project)s")
    if report.user_id is not None:
        parts.append(f"{alias}.id = ANY(%(own)s)")
    return " AND ".join(parts)


# Report queries sort and hash a period's rows (a hundred thousand or more): with PostgreSQL's
# default 4 MB they spill to disk. Raised for the report's own transaction only.
REPORT_WORK_MEM = "64MB"


def _fetch(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('work_mem', %s, true)", [REPORT_WORK_MEM])
        cursor.execute(sql, params)
        return cursor.fetchall()


# --- funnel ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelRow:
    """One stage: prospects that entered it in the period, how many reached the next, time spent."""

    stage: str
    label: str
    entered: int
    converted: int | None  # None: no next stage (Link Acquired, Rejected)
    median_days: float | None
    stays: int  # ended stays the median is taken over

    @property
    def conversion(self) -> float | None:
        return None if self.converted is None else rate(self.converted, self.entered)


# The period's moves come from the stage roll-up (outreach.reports.facts): each move knows the
# prospect's previous move into the same stage, its next move and whether the prospect later got
# further, so entered/converted are plain counts of "first move into the stage in the period"
# and the medians need no window over the log. Prospects with unsettled moves are computed live.
# Stays are measured with date_part (a float, what percentile_cont takes): extract() makes a
# numeric of every stay first, ~100 ms more over a year's ~470,000 moves.
_FUNNEL_SQL = """
WITH live_stages AS MATERIALIZED ({live}),
moves AS (
  SELECT f.to_stage, f.created_at, f.left_at, f.reached,
         (f.prev_same_at IS NULL OR f.prev_same_at < %(start)s) AS first_in_period
  FROM ({rows}) f JOIN prospects_prospect p ON p.id = f.prospect_id
  WHERE {scope}
)
SELECT to_stage, count(*) FILTER (WHERE first_in_period), count(*) FILTER (WHERE first_in_period AND reached),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY date_part('epoch', left_at - created_at))
         FILTER (WHERE left_at IS NOT NULL),
       count(*) FILTER (WHERE left_at IS NOT NULL)
FROM moves GROUP BY to_stage
"""


def _funnel_sql(report: ReportFilter) -> str:
    return _FUNNEL_SQL.format(
        live=facts.LIVE_STAGE_PROSPECTS, scope=scope_sql(report),
        rows=facts.stage_rows_sql("created_at >= %(start)s AND created_at < %(end)s"),
    )  # fmt: skip


def funnel(report: ReportFilter) -> list[FunnelRow]:
    """Entered, converted to the next stage and median days in stage, for each stage in order."""
    params = {**report.params(), **facts.built_upto()}
    per_stage = {stage: values for stage, *values in _fetch(_funnel_sql(report), params)}
    labels = dict(Stage.choices)
    result = []
    for index, stage in enumerate(FUNNEL_STAGES):
        entered, converted, seconds, stays = per_stage.get(stage, (0, 0, None, 0))
        result.append(FunnelRow(
            stage=stage, label=labels[stage], entered=entered,
            converted=converted if index < len(ORDERED_STAGES) - 1 else None,
            median_days=None if seconds is None else round(seconds / 86400, 1), stays=stays,
        ))  # fmt: skip
    return result


# --- outreach rates and breakdowns -------------------------------------------------------------------


@dataclass(frozen=True)
class RateRow:
    """Prospect counts for one group of sent emails (or the total), with the rates derived from them."""

    key: Any
    label: str
    messages: int
    contacted: int
    replied: int
    bounced: int
    won: int

    @property
    def reply_rate(self) -> float | None:
        return rate(self.replied, self.contacted)

    @property
    def bounce_rate(self) -> float | None:
        return rate(self.bounced, self.contacted)

    @property
    def win_rate(self) -> float | None:
        return rate(self.won, self.contacted)


# Breakdown name -> column of the ``sent`` CTE below.
DIMENSIONS: dict[str, str] = {
    "sequence": "sequence_id", "template": "template_id", "version": "template_version_id",
    "step": "step_position", "mailbox": "mailbox_id", "assignee": "assignee_id", "month": "month",
}  # fmt: skip

# Emails of the period from the sent-email roll-up (outreach.reports.facts): each knows when its
# prospect was last sent an email of the same group, so a group's distinct prospects are the
# emails that are the first of their group in the period — plain counts, hashed in one pass for
# every grouping set (no per-group sort of the period's emails). The month's "first" compares the
# prospect's previous email with the later of the period's start and the month's start; the
# assignee is the prospect's, so its "first" is the prospect's first email of the period.
_FIRST = {
    "any": "prev_any IS NULL OR prev_any < %(start)s",
    "sequence": "prev_sequence IS NULL OR prev_sequence < %(start)s",
    "template": "prev_template IS NULL OR prev_template < %(start)s",
    "version": "prev_version IS NULL OR prev_version < %(start)s",
    "step": "prev_step IS NULL OR prev_step < %(start)s",
    "mailbox": "prev_mailbox IS NULL OR prev_mailbox < %(start)s",
    "assignee": "prev_any IS NULL OR prev_any < %(start)s",
    "month": "prev_any IS NULL OR prev_any < greatest(%(start)s, (%(months)s::timestamptz[])[month])",
}
_PERIOD_SENT = "sent_at >= %(start)s AND sent_at < %(end)s"

_RATES_SQL = """
WITH live_sent AS MATERIALIZED ({live}),
people AS (
  -- The prospects in scope, each with its assignee and whether it ever moved into Link Acquired
  -- (the partial index stagechange_acquired_idx): worked out once a prospect, so an email takes
  -- one hash probe for both. OFFSET 0 keeps the planner from merging this into the emails' join
  -- (which probes the won set once per email again: ~10%% more of the statement's time).
  SELECT p.id, p.assignee_id, w.prospect_id IS NOT NULL AS won
  FROM prospects_prospect p
  LEFT JOIN (SELECT DISTINCT prospect_id FROM prospects_stagechange WHERE to_stage = %(acquired)s) w
    ON w.prospect_id = p.id
  WHERE {scope}
  OFFSET 0
),
sent AS (
  SELECT f.*, p.assignee_id, width_bucket(f.sent_at, %(months)s::timestamptz[]) AS month, p.won
  FROM ({rows}) f JOIN people p ON p.id = f.prospect_id
), cells AS (
  -- One pass over the period's emails into cells of every group key and "first of its group"
  -- flag at once (a few thousand), then the grouping sets add the cells up. The flags are the
  -- bits of one number (firsts), hashed as one key; the template is its version's, named
  -- after the cells are made (one key fewer per email).
  SELECT sequence_id, template_version_id, step_position, mailbox_id, assignee_id, month, won,
         {firsts} AS firsts, count(*) AS messages
  FROM sent GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
)
SELECT {groupings}, {columns}, COALESCE(sum(messages), 0)::bigint, {sums}
FROM (SELECT c.*, tv.template_id FROM cells c LEFT JOIN outreach_templateversion tv ON tv.id = c.template_version_id) s
GROUP BY GROUPING SETS ((){sets})
"""

# Replies and bounces are few (thousands a year): the emails they answer are read from the outbox
# and counted per group with count(DISTINCT …) over that small set.
_ANSWERS_SQL = """
WITH answers AS (
  SELECT answered_id, bool_or(kind = %(reply)s) AS replied, bool_or(kind = %(bounce)s AND permanent) AS bounced
  FROM (
    SELECT i.kind, i.permanent, COALESCE(i.matched_message_id, (
             SELECT o.id FROM outreach_outboundmessage o
             WHERE o.enrollment_id = i.enrollment_id AND o.status = %(sent)s AND o.sent_at <= i.received_at
             ORDER BY o.sent_at DESC, o.id DESC LIMIT 1)) AS answered_id
    FROM outreach_inboundmessage i JOIN prospects_prospect p ON p.id = i.prospect_id
    WHERE i.kind IN (%(reply)s, %(bounce)s) AND i.received_at >= %(start)s AND {scope}
      AND EXISTS (SELECT 1 FROM outreach_outboundmessage x WHERE x.prospect_id = i.prospect_id
                  AND x.status = %(sent)s AND x.sent_at >= %(start)s AND x.sent_at < %(end)s)
  ) resolved
  GROUP BY answered_id
), s AS (
  SELECT m.prospect_id, m.mailbox_id, m.step_position, m.template_version_id, e.sequence_id, tv.template_id,
         p.assignee_id, width_bucket(m.sent_at, %(months)s::timestamptz[]) AS month, a.replied, a.bounced
  FROM answers a CROSS JOIN LATERAL (
    -- LIMIT 1 keeps this a primary-key lookup per answer: joined plainly, the planner read all of
    -- the period's emails (~460,000 a year) to hash-join the few thousand answered ones.
    SELECT * FROM outreach_outboundmessage o WHERE o.id = a.answered_id LIMIT 1) m
  JOIN prospects_prospect p ON p.id = m.prospect_id
  LEFT JOIN outreach_enrollment e ON e.id = m.enrollment_id
  LEFT JOIN outreach_templateversion tv ON tv.id = m.template_version_id
  WHERE m.status = %(sent)s AND m.sent_at >= %(start)s AND m.sent_at < %(end)s AND {scope}
)
SELECT {groupings}, {columns}, count(DISTINCT s.prospect_id) FILTER (WHERE s.replied),
       count(DISTINCT s.prospect_id) FILTER (WHERE s.bounced)
FROM s GROUP BY GROUPING SETS ((){sets})
"""


@dataclass(frozen=True)
class Rates:
    """The totals row and one list of rows per requested breakdown."""

    total: RateRow
    breakdowns: dict[str, list[RateRow]]


def _grouped_rows(
    sql: str, params: dict[str, Any], dimensions: Sequence[str]
) -> dict[tuple[str, Any], tuple[Any, ...]]:
    """Run a GROUPING SETS query; its rows keyed by (dimension or "", group key)."""
    columns = [f"s.{DIMENSIONS[name]}" for name in dimensions]
    sql = sql.replace("{groupings}", ", ".join(f"GROUPING({column})" for column in columns) if columns else "0")
    sql = sql.replace("{columns}", ", ".join(columns) if columns else "NULL")
    sql = sql.replace("{sets}", "".join(f", ({column})" for column in columns))
    width = max(len(columns), 1)
    result: dict[tuple[str, Any], tuple[Any, ...]] = {}
    for row in _fetch(sql, params):
        flags, keys, values = row[:width], row[width : 2 * width], row[2 * width :]
        grouped = [name for name, flag in zip(dimensions, flags, strict=False) if flag == 0]
        if not grouped or not columns:
            result[("", None)] = values
        else:
            result[(grouped[0], keys[dimensions.index(grouped[0])])] = values
    return result


def outreach_rates(report: ReportFilter, dimensions: Sequence[str] = tuple(DIMENSIONS)) -> Rates:
    """Totals and breakdowns of contacted/replied/bounced/won prospects (two GROUPING SETS queries)."""
    # One bit per distinct "first of its group" condition (the total's and the assignee's are one).
    conditions = list(dict.fromkeys(_FIRST[name] for name in ("any", *dimensions)))
    firsts = " + ".join(f"(CASE WHEN {condition} THEN {1 << i} ELSE 0 END)" for i, condition in enumerate(conditions))
    sums = ", ".join(
        f"COALESCE(sum(messages) FILTER (WHERE firsts & {1 << i} <> 0), 0)::bigint,"
        f" COALESCE(sum(messages) FILTER (WHERE firsts & {1 << i} <> 0 AND won), 0)::bigint"
        for i in range(len(conditions))
    )
    sent_sql = _RATES_SQL.format(
        live=facts.LIVE_SENT_PROSPECTS, rows=facts.sent_rows_sql(_PERIOD_SENT), scope=scope_sql(report),
        firsts=firsts, sums=sums, groupings="{groupings}", columns="{columns}", sets="{sets}",
    )  # fmt: skip
    params = {**report.params(), **facts.built_upto()}
    answers_sql = _ANSWERS_SQL.replace("{scope}", scope_sql(report))
    results = run_together({"sent": lambda: _grouped_rows(sent_sql, params, dimensions),
                            "answers": lambda: _grouped_rows(answers_sql, params, dimensions)})  # fmt: skip
    sent, answers = results["sent"], results["answers"]
    total = RateRow(None, "All", 0, 0, 0, 0, 0)
    raw: dict[str, list[tuple[Any, ...]]] = {name: [] for name in dimensions}
    months = [start.date() for start in params["months"]]
    for (name, key), (messages, *counts) in sent.items():
        # counts holds (first, first and won) per condition: this row's pair is its own group's.
        index = conditions.index(_FIRST[name or "any"])
        contacted, won = counts[2 * index], counts[2 * index + 1]
        replied, bounced = answers.get((name, key), (0, 0))
        if name:
            # Months come back as their position in params["months"] (1-based, width_bucket's).
            shown = months[key - 1] if name == "month" and key is not None else key
            raw[name].append((shown, messages, contacted, replied, bounced, won))
        else:
            total = RateRow(None, "All", messages, contacted, replied, bounced, won)
    return Rates(total, {name: _labelled(name, rows) for name, rows in raw.items()})


def _labelled(dimension: str, rows: list[tuple[Any, ...]]) -> list[RateRow]:
    """Name each group's key (a handful of lookups by primary key), sorted by label."""
    labels = LABELLERS[dimension]([key for key, *_ in rows if key is not None])
    result = [RateRow(key, labels.get(key, "—") if key is not None else "—", *counts) for key, *counts in rows]
    return sorted(result, key=lambda r: (r.key is None, r.key if dimension in ("step", "month") else r.label))


def _label_sequences(keys: Iterable[int]) -> dict[Any, str]:
    return dict(OutreachSequence.objects.filter(pk__in=keys).values_list("pk", "name"))


def _label_templates(keys: Iterable[int]) -> dict[Any, str]:
    return dict(EmailTemplate.objects.filter(pk__in=keys).values_list("pk", "name"))


def _label_versions(keys: Iterable[int]) -> dict[Any, str]:
    rows = TemplateVersion.objects.filter(pk__in=keys).values_list("pk", "template__name", "number")
    return {pk: f"{name} v{number}" for pk, name, number in rows}


def _label_mailboxes(keys: Iterable[int]) -> dict[Any, str]:
    return {pk: f"{name} <{email}>" for pk, name, email in Mailbox.objects.filter(pk__in=keys).values_list(
        "pk", "name", "email")}  # fmt: skip


def _label_users(keys: Iterable[int]) -> dict[Any, str]:
    users = get_user_model().objects.filter(pk__in=keys)
    return {user.pk: user.get_full_name() or user.get_username() for user in users}


LABELLERS: dict[str, Callable[[list[Any]], dict[Any, str]]] = {
    "sequence": _label_sequences, "template": _label_templates, "version": _label_versions,
    "step": lambda keys: {key: f"Step {key}" for key in keys}, "mailbox": _label_mailboxes,
    "assignee": _label_users, "month": lambda keys: {key: key.strftime("%Y-%m") for key in keys},
}  # fmt: skip


# --- acquisition: velocity, authority, losses ----------------------------------------------------------


@dataclass(frozen=True)
class Acquisition:
    """Links acquired and lost in the period, per week (Monday start, zero-filled) and in total."""

    weeks: list[date]
    acquired_per_week: list[int]
    lost_per_week: list[int]
    acquired: int
    average_authority: float | None
    with_authority: int
    lost: int
    moved_out: int

    @property
    def rows(self) -> list[tuple[date, int, int]]:
        return list(zip(self.weeks, self.acquired_per_week, self.lost_per_week, strict=True))


# One statement: the period's moves into Link Acquired are read once (``acquired``) for both the
# velocity per week and the totals; the losses and the moves out of Link Acquired join them.
_ACQUISITION_SQL = """
WITH acquired AS MATERIALIZED (
  SELECT c.prospect_id, c.created_at, p.authority
  FROM prospects_stagechange c JOIN prospects_prospect p ON p.id = c.prospect_id
  WHERE c.to_stage = %(acquired)s AND c.created_at >= %(start)s AND c.created_at < %(end)s AND {scope}
)
SELECT 'acquired', date_trunc('week', created_at AT TIME ZONE %(tz)s)::date, count(DISTINCT prospect_id),
       NULL::numeric, NULL::bigint
FROM acquired GROUP BY 2
UNION ALL
SELECT 'lost', date_trunc('week', l.loss_confirmed_at AT TIME ZONE %(tz)s)::date, count(*), NULL, NULL
FROM prospects_acquiredlink l JOIN prospects_prospect p ON p.id = l.prospect_id
WHERE l.status = ANY(%(loss)s) AND l.loss_confirmed_at >= %(start)s AND l.loss_confirmed_at < %(end)s AND {scope}
GROUP BY 2
UNION ALL
SELECT 'total', NULL, count(*), avg(authority), count(authority)
FROM (SELECT DISTINCT ON (prospect_id) prospect_id, authority FROM acquired) a
UNION ALL
SELECT 'moved_out', NULL, count(DISTINCT c.prospect_id), NULL, NULL
FROM prospects_stagechange c JOIN prospects_prospect p ON p.id = c.prospect_id
WHERE c.from_stage = %(acquired)s AND c.created_at >= %(start)s AND c.created_at < %(end)s AND {scope}
"""


def week_starts(start: date, end: date) -> list[date]:
    """Mondays of every week touching [start, end]."""
    first = start - timedelta(days=start.weekday())
    return [first + timedelta(weeks=n) for n in range((end - first).days // 7 + 1)]


def acquisition(report: ReportFilter) -> Acquisition:
    """Velocity (acquired per week), average authority, and losses of acquired links in the period."""
    rows = _fetch(_ACQUISITION_SQL.format(scope=scope_sql(report)), report.params())
    weekly: dict[tuple[str, date], int] = {(kind, week): n for kind, week, n, _, _ in rows if week is not None}
    totals = {kind: (n, average, with_authority) for kind, week, n, average, with_authority in rows if week is None}
    acquired, average, with_authority = totals["total"]
    moved_out = totals["moved_out"][0]
    weeks = week_starts(report.start, report.end)
    lost_per_week = [weekly.get(("lost", week), 0) for week in weeks]
    return Acquisition(
        weeks=weeks, acquired_per_week=[weekly.get(("acquired", week), 0) for week in weeks],
        lost_per_week=lost_per_week, acquired=acquired,
        average_authority=None if average is None else round(float(average), 1), with_authority=with_authority,
        lost=sum(lost_per_week), moved_out=moved_out,
    )  # fmt: skip


# --- referring-domain growth --------------------------------------------------------------------------


@dataclass(frozen=True)
class SiteGrowth:
    """One site's live referring domains at the end of each month."""

    domain: str
    is_own: bool
    live: list[int]


@dataclass(frozen=True)
class Growth:
    months: list[date]
    sites: list[SiteGrowth]


# One scan of the sites' referring domains gives, per site, new per month, lost per month and the
# live count today (audit.selectors.new_lost_series asks twice per site; here every site is read once).
_GROWTH_SQL = """
SELECT site_id, GROUPING(first_month) = 0 AS is_new, GROUPING(lost_month) = 0 AS is_lost,
       COALESCE(first_month, lost_month), count(*), count(*) FILTER (WHERE lost_at IS NULL)
FROM (SELECT site_id, lost_at, date_trunc('month', first_seen)::date AS first_month,
             date_trunc('month', lost_at)::date AS lost_month
      FROM audit_refdomain WHERE site_id = ANY(%(sites)s)) d
GROUP BY GROUPING SETS ((site_id, first_month), (site_id, lost_month), (site_id))
"""


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _growth_counts(site_ids: list[int]) -> tuple[dict[int, dict[date, int]], dict[int, int]]:
    """Per site: net change (new - lost) per month, and today's live count."""
    net: dict[int, dict[date, int]] = {site_id: {} for site_id in site_ids}
    live: dict[int, int] = dict.fromkeys(site_ids, 0)
    for site_id, is_new, is_lost, month, count, live_count in _fetch(_GROWTH_SQL, {"sites": site_ids}):
        if is_new or is_lost:
            if month is not None:
                net[site_id][month] = net[site_id].get(month, 0) + (count if is_new else -count)
        else:
            live[site_id] = live_count
    return net, live


def refdomain_growth(project: Project | None, *, max_months: int = 24) -> Growth:
    """The project site's and its competitors' live referring domains per month (last ``max_months``).

    Live at the end of a month = live today - (new - lost) in every later month, so domains an
    export gave no first-seen date count as live throughout.
    """
    if project is None:
        return Growth([], [])
    sites: list[tuple[Site, bool]] = [(project.site, True)] if project.site_id else []
    sites += [(site, False) for site in project.competitors.order_by("domain")]
    if not sites:
        return Growth([], [])
    net, live = _growth_counts([site.pk for site, _ in sites])
    starts = [month for changes in net.values() for month in changes]
    if not starts:
        return Growth([], [SiteGrowth(site.domain, own, []) for site, own in sites])
    months = [min(starts)]
    while months[-1] < max(starts):
        months.append(_next_month(months[-1]))
    months = months[-max_months:]
    result = []
    for site, own in sites:
        changes = net[site.pk]
        # Undo every change after each month, latest first: one pass over the months.
        values, level = [], live[site.pk] - sum(n for month, n in changes.items() if month > months[-1])
        for month in reversed(months):
            values.append(level)
            level -= changes.get(month, 0)
        result.append(SiteGrowth(site.domain, own, values[::-1]))
    return Growth(months, result)


# --- stale prospects -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaleProspect:
    prospect_id: int
    domain: str
    project: str
    stage: str
    assignee: str
    last_activity: datetime


# The recent activity (emails sent or received since the cutoff: a few days' worth) is read once
# into a hashed NOT IN; only the listed rows get their last activity computed (by the partial
# index outbound_prospect_sent_idx and inbound_prospect_idx).
_STALE_SQL = """
SELECT s.id, s.domain, s.project, s.stage, s.assignee,
       GREATEST(s.stage_changed_at,
         (SELECT max(m.sent_at) FROM outreach_outboundmessage m WHERE m.prospect_id = s.id AND m.status = %(sent)s),
         (SELECT max(i.received_at) FROM outreach_inboundmessage i WHERE i.prospect_id = s.id)),
       s.total
FROM (
  SELECT p.id, p.domain, pr.name AS project, p.stage, COALESCE(u.username, '') AS assignee, p.stage_changed_at,
         count(*) OVER () AS total
  FROM prospects_prospect p
  JOIN prospects_project pr ON pr.id = p.project_id
  LEFT JOIN auth_user u ON u.id = p.assignee_id
  WHERE {scope} AND p.stage = ANY(%(active)s) AND p.stage_changed_at < %(cutoff)s
    AND p.id NOT IN (SELECT m.prospect_id FROM outreach_outboundmessage m
                     WHERE m.status = %(sent)s AND m.sent_at >= %(cutoff)s AND m.prospect_id IS NOT NULL)
    AND p.id NOT IN (SELECT i.prospect_id FROM outreach_inboundmessage i
                     WHERE i.received_at >= %(cutoff)s AND i.prospect_id IS NOT NULL)
  ORDER BY p.stage_changed_at, p.id
  LIMIT %(limit)s
) s
ORDER BY s.stage_changed_at, s.id
"""


def stale_prospects(
    report: ReportFilter, *, now: datetime, days: int, limit: int = 50
) -> tuple[int, list[StaleProspect]]:
    """Prospects being worked with no activity for ``days`` days (longest in their stage first), and how many.

    The report's period is ignored: staleness is measured back from ``now``.
    """
    params = {**report.params(), "cutoff": now - timedelta(days=days), "limit": limit}
    rows = _fetch(_STALE_SQL.format(scope=scope_sql(report)), params)
    total = rows[0][-1] if rows else 0
    return total, [StaleProspect(*row[:-1]) for row in rows]


# --- the links behind the counts (digest) --------------------------------------------------------------


@dataclass(frozen=True)
class LinkEvent:
    domain: str
    project: str
    at: datetime
    page_url: str


_ACQUIRED_LIST_SQL = """
SELECT p.domain, pr.name, max(c.created_at), p.linking_page_url
FROM prospects_stagechange c JOIN prospects_prospect p ON p.id = c.prospect_id
JOIN prospects_project pr ON pr.id = p.project_id
WHERE c.to_stage = %(acquired)s AND c.created_at >= %(start)s AND c.created_at < %(end)s AND {scope}
GROUP BY p.id, pr.name ORDER BY 3 DESC, p.id LIMIT %(limit)s
"""
_LOST_LIST_SQL = """
SELECT p.domain, pr.name, l.loss_confirmed_at, l.page_url
FROM prospects_acquiredlink l JOIN prospects_prospect p ON p.id = l.prospect_id
JOIN prospects_project pr ON pr.id = p.project_id
WHERE l.status = ANY(%(loss)s) AND l.loss_confirmed_at >= %(start)s AND l.loss_confirmed_at < %(end)s AND {scope}
ORDER BY 3 DESC, l.id LIMIT %(limit)s
"""


def links_acquired_list(report: ReportFilter, limit: int = 20) -> list[LinkEvent]:
    """Prospects moved into Link Acquired in the period, newest first."""
    rows = _fetch(_ACQUIRED_LIST_SQL.format(scope=scope_sql(report)), {**report.params(), "limit": limit})
    return [LinkEvent(*row) for row in rows]


def links_lost_list(report: ReportFilter, limit: int = 20) -> list[LinkEvent]:
    """Acquired links whose loss was confirmed in the period (and still stands), newest first."""
    rows = _fetch(_LOST_LIST_SQL.format(scope=scope_sql(report)), {**report.params(), "limit": limit})
    return [LinkEvent(*row) for row in rows]
