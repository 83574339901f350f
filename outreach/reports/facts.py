"""Report roll-ups: sent emails and stage-log moves, each with what the reports need precomputed.

Why: a year holds ~460,000 sent emails and ~500,000 stage-log moves. Counting *distinct*
prospects per group (sequence, template, step, …) or per stage means sorting all of them on
every page view. Each roll-up row instead carries, per group, *when the prospect last had a row
of the same group before* (``prev_*``), so "the first of its group in the period" is a
comparison with the period's start, and the distinct prospects of a group are a plain count.

Exactness: a roll-up (``ReportFactsState``: ``built_upto`` = T, ``built_upto_id`` = W) holds,
for every prospect without source rows dated at or after T or inserted after W (id > W), rows
computed from *all* of that prospect's source rows. Other prospects are computed live from the
source tables by the same SELECT (``*_FACTS_SQL``), inside the report's statement. So a report
gives the same figures whether the roll-up is fresh, stale or empty; only its speed changes.
W catches rows written with a date in the past (the demo loader backdates its history).

T is "now minus ``SETTLE``" (a source row is visible long before that: a send or a stage change
commits within seconds of the time it records) and, for sent emails, never later than the claim
time of an email still in flight (sending, retry, in doubt): reconciling one marks it sent at
its claim time, in the past.

The roll-up is refreshed by ``facts_refresh`` (scheduled, ``reports-facts`` in
linkcrm/schedules.py): it rebuilds only the prospects with source rows new since its last run.
"""

# ruff: noqa: S608 - SQL assembled from this module's constants; every value is bound

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction

from outreach.choices import OutboxStatus
from prospects.choices import STAGE_RANK

SETTLE = timedelta(minutes=10)
SENT, STAGES = "sent", "stages"
IN_FLIGHT: tuple[str, ...] = (OutboxStatus.SENDING, OutboxStatus.RETRY, OutboxStatus.UNKNOWN)
ORDERED_STAGES: tuple[str, ...] = tuple(sorted(STAGE_RANK, key=STAGE_RANK.__getitem__))

# The roll-up's columns, computed from the sources for the prospects ``{where}`` selects (over
# every sent email of theirs, so each LAG sees the prospect's whole history).
SENT_COLUMNS = (
    "message_id, prospect_id, sent_at, sequence_id, template_id, template_version_id, step_position,"
    " mailbox_id, prev_any, prev_sequence, prev_template, prev_version, prev_step, prev_mailbox"
)
_ORDER = "ORDER BY m.sent_at, m.id"
SENT_FACTS_SQL = f"""
SELECT m.id AS message_id, m.prospect_id, m.sent_at, e.sequence_id, tv.template_id, m.template_version_id,
       m.step_position, m.mailbox_id,
       lag(m.sent_at) OVER (PARTITION BY m.prospect_id {_ORDER}) AS prev_any,
       lag(m.sent_at) OVER (PARTITION BY m.prospect_id, e.sequence_id {_ORDER}) AS prev_sequence,
       lag(m.sent_at) OVER (PARTITION BY m.prospect_id, tv.template_id {_ORDER}) AS prev_template,
       lag(m.sent_at) OVER (PARTITION BY m.prospect_id, m.template_version_id {_ORDER}) AS prev_version,
       lag(m.sent_at) OVER (PARTITION BY m.prospect_id, m.step_position {_ORDER}) AS prev_step,
       lag(m.sent_at) OVER (PARTITION BY m.prospect_id, m.mailbox_id {_ORDER}) AS prev_mailbox
FROM outreach_outboundmessage m
LEFT JOIN outreach_enrollment e ON e.id = m.enrollment_id
LEFT JOIN outreach_templateversion tv ON tv.id = m.template_version_id
WHERE m.status = '{OutboxStatus.SENT.value}' AND m.sent_at IS NOT NULL AND m.prospect_id IS NOT NULL
  AND {{where}}
"""


def _reached_sql() -> str:
    """True when the prospect moved into a stage further along the ordered funnel at or after this move."""
    cases = []
    for rank, stage in enumerate(ORDERED_STAGES[:-1]):
        later = ", ".join(f"'{s}'" for s in ORDERED_STAGES[rank + 1 :])
        cases.append(f"WHEN '{stage}' THEN max(c.created_at) FILTER (WHERE c.to_stage IN ({later}))"
                     " OVER (PARTITION BY c.prospect_id) >= c.created_at")  # fmt: skip
    return f"COALESCE(CASE c.to_stage {' '.join(cases)} END, false)"


STAGE_COLUMNS = "change_id, prospect_id, to_stage, created_at, prev_same_at, left_at, reached"
STAGE_FACTS_SQL = f"""
SELECT c.id AS change_id, c.prospect_id, c.to_stage, c.created_at,
       lag(c.created_at) OVER (PARTITION BY c.prospect_id, c.to_stage ORDER BY c.created_at, c.id) AS prev_same_at,
       lead(c.created_at) OVER (PARTITION BY c.prospect_id ORDER BY c.created_at, c.id) AS left_at,
       {_reached_sql()} AS reached
FROM prospects_stagechange c
WHERE {{where}}
"""

# The prospects a report must compute live: those with source rows at or after the roll-up's T
# (every prospect while the roll-up was never built). T is read by its own statement first
# (``built_upto``), so the planner sees its value: a refresh committing between that read and the
# report's statement is harmless, as it only moves T forward and rebuilds prospects completely.
LIVE_SENT_PROSPECTS = (
    f"SELECT DISTINCT prospect_id FROM outreach_outboundmessage WHERE status = '{OutboxStatus.SENT.value}'"
    " AND prospect_id IS NOT NULL AND (sent_at >= %(sent_upto)s OR id > %(sent_upto_id)s)"
)
LIVE_STAGE_PROSPECTS = (
    "SELECT DISTINCT prospect_id FROM prospects_stagechange"
    " WHERE created_at >= %(stages_upto)s OR id > %(stages_upto_id)s"
)


def built_upto() -> dict[str, datetime | str | int]:
    """Each roll-up's T and W as query parameters (``sent_upto``, ``sent_upto_id``, ``stages_upto``, …).

    Never built: T is '-infinity', so every prospect is read live.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, built_upto, built_upto_id FROM outreach_reportfactsstate")
        built = {name: (upto, upto_id) for name, upto, upto_id in cursor.fetchall()}
    params: dict[str, datetime | str | int] = {}
    for name in (SENT, STAGES):
        params[f"{name}_upto"], params[f"{name}_upto_id"] = built.get(name, ("-infinity", 0))
    return params


@dataclass(frozen=True)
class _Source:
    name: str
    table: str
    time_column: str
    facts_sql: str
    facts_table: str
    columns: str
    alias: str  # of ``table`` in ``facts_sql``
    live: str  # the report statement's CTE of the prospects read live


_SENT = _Source(SENT, "outreach_outboundmessage", "sent_at", SENT_FACTS_SQL, "outreach_sentfact", SENT_COLUMNS,
                "m", "live_sent")  # fmt: skip
_STAGES = _Source(STAGES, "prospects_stagechange", "created_at", STAGE_FACTS_SQL, "outreach_stagefact",
                  STAGE_COLUMNS, "c", "live_stages")  # fmt: skip
_SOURCES = (_SENT, _STAGES)


def _rows_sql(source: _Source, period: str) -> str:
    """Roll-up rows of ``source`` matching ``period``: stored ones, and live ones for the prospects in its CTE."""
    live = f"{source.alias}.prospect_id IN (SELECT prospect_id FROM {source.live})"
    return f"""
  SELECT {source.columns} FROM {source.facts_table}
  WHERE {period} AND prospect_id NOT IN (SELECT prospect_id FROM {source.live})
  UNION ALL
  SELECT * FROM ({source.facts_sql.format(where=live)}) l
  WHERE {period}"""


def sent_rows_sql(period: str) -> str:
    """Roll-up rows of sent emails matching ``period`` (a condition on ``sent_at``), exact as of now."""
    return _rows_sql(_SENT, period)


def stage_rows_sql(period: str) -> str:
    """Roll-up rows of stage-log moves matching ``period`` (a condition on ``created_at``), exact as of now."""
    return _rows_sql(_STAGES, period)


# --- refresh ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refresh:
    """What one roll-up refresh did: the new T, and how many prospects and rows it rebuilt."""

    name: str
    built_upto: datetime
    prospects: int
    rows: int


def _target(source: _Source, now: datetime) -> datetime:
    """The new T: settled rows only, and (sent emails) never past an email still in flight."""
    upto = now - SETTLE
    if source.name == SENT:
        with connection.cursor() as cursor:
            cursor.execute("SELECT min(COALESCE(claimed_at, due_at)) FROM outreach_outboundmessage"
                           " WHERE status = ANY(%s)", [list(IN_FLIGHT)])  # fmt: skip
            oldest = cursor.fetchone()[0]
        if oldest is not None:
            upto = min(upto, oldest)
    return upto


def _refresh_one(source: _Source, now: datetime) -> Refresh:
    """Rebuild the prospects with source rows new since the last run, move T and W (one transaction, locked).

    New: dated at or after the old T, or inserted after the old W (a row written with a date in
    the past, as the demo loader does, is new by its id).
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"report-facts-{source.name}"])
        cursor.execute("SELECT built_upto, built_upto_id FROM outreach_reportfactsstate WHERE name = %s",
                       [source.name])  # fmt: skip
        old, old_id = cursor.fetchone() or (None, 0)
        new = _target(source, now)
        cursor.execute(f"SELECT COALESCE(max(id), 0) FROM {source.table}")
        new_id = cursor.fetchone()[0]
        if old is not None and new <= old and new_id <= old_id:
            return Refresh(source.name, old, 0, 0)
        new = new if old is None else max(new, old)
        params = {"old": old, "old_id": old_id, "new": new, "new_id": new_id}
        cursor.execute(
            f"CREATE TEMPORARY TABLE report_dirty ON COMMIT DROP AS SELECT DISTINCT prospect_id FROM {source.table}"
            " WHERE prospect_id IS NOT NULL"
            + ("" if old is None else f" AND ({source.time_column} >= %(old)s OR id > %(old_id)s)"),
            params,
        )
        prospects = cursor.rowcount
        if old is None:  # DELETE, not TRUNCATE: reports keep reading while the first build runs
            cursor.execute(f"DELETE FROM {source.facts_table}")
        else:
            cursor.execute(
                f"DELETE FROM {source.facts_table} WHERE prospect_id IN (SELECT prospect_id FROM report_dirty)"
            )
        alias = source.alias
        where = (f"{alias}.prospect_id IN (SELECT prospect_id FROM report_dirty)"
                 f" AND {alias}.{source.time_column} < %(new)s AND {alias}.id <= %(new_id)s")  # fmt: skip
        cursor.execute(f"INSERT INTO {source.facts_table} ({source.columns}) "
                       + source.facts_sql.format(where=where), params)  # fmt: skip
        rows = cursor.rowcount
        cursor.execute("DROP TABLE report_dirty")  # ON COMMIT would be too late inside an outer transaction
        cursor.execute(
            "INSERT INTO outreach_reportfactsstate (name, built_upto, built_upto_id, refreshed_at)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET built_upto = EXCLUDED.built_upto,"
            " built_upto_id = EXCLUDED.built_upto_id, refreshed_at = EXCLUDED.refreshed_at",
            [source.name, new, new_id, now],
        )
    return Refresh(source.name, new, prospects, rows)


def facts_refresh(now: datetime) -> list[Refresh]:
    """Bring both roll-ups up to ``now - SETTLE``; safe to run concurrently and to repeat."""
    return [_refresh_one(source, now) for source in _SOURCES]
