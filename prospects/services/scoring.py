"""The prospect score: 0-100, a weighted mean of six parts, each 0-100 (higher is better).

Parts, computed from what audit holds about the prospect's domain on the project's compared
sites (its own site and competitors):

- authority: the domain's authority (as in the gap: Semrush AS, else Ahrefs DR, else Majestic TF);
- competitors: share of the project's competitors it links to (live);
- freshness: how recently it gave one of its live links: 100 for a link first seen today,
  falling linearly to 0 at FRESHNESS_DAYS;
- follow: share of its live links that are followed;
- relevance: share of its links whose page title or anchor mentions one of the project's
  keywords (whole words, any case). Sitewide domains count at most RELEVANCE_SAMPLE links per
  compared site (the first by link id), so a 3,000-link footer costs what 100 links cost;
- spam: 100 minus the spam risk: the highest of the Semrush toxic score of its links, 100 when
  Ahrefs flags one as spam, and domain patterns (SPAM_TLDS +30, SPAM_WORDS +60, a label with
  two or more hyphens or four digits in a row +20; capped at 100).

A part with no data (no keywords set, no competitors, no links held) is left out and the
others' weights share its place, so a score never drops for what nobody knows. The weights
are ``Project.score_weights`` (managers edit them). ``Prospect.score_breakdown`` keeps, per
part, its ``value``, ``weight`` and ``contribution`` (the points it adds; they sum to the
score before rounding) and the ``facts`` it came from, so the page can show why.

``prospects_rescore`` is one UPDATE … FROM over the project's prospects (or the ids given):
set-based whatever their number.
"""

# SQL here is assembled from constants and ints only; every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from prospects.models import Project, default_score_weights
from prospects.selectors.gap import gap_sites

PARTS = tuple(default_score_weights())
FRESHNESS_DAYS = 730
RELEVANCE_SAMPLE = 100
SPAM_TLDS = ("xyz", "top", "online", "site", "click", "loan", "work", "gq", "tk", "ml", "cf", "ga", "buzz",
             "icu", "rest", "bid", "win", "stream", "download", "racing", "party")  # fmt: skip
SPAM_WORDS = ("casino", "poker", "porn", "xxx", "viagra", "cialis", "payday", "escort", "betting", "replica",
              "backlink", "linkbuilding", "seo-")  # fmt: skip

# Array membership and LIKE, not regular expressions: this runs once per prospect, 50k at a time.
_PATTERN_RISK = (
    "LEAST(100, CASE WHEN substring(f.domain from '[^.]+$') = ANY(%(spam_tlds)s) THEN 30 ELSE 0 END"
    " + CASE WHEN f.domain LIKE ANY(%(spam_words)s) THEN 60 ELSE 0 END"
    " + CASE WHEN split_part(f.domain, '.', 1) LIKE '%%-%%-%%'"
    " OR split_part(f.domain, '.', 1) ~ '[0-9]{4}' THEN 20 ELSE 0 END)"
)


def keyword_pattern(keywords: Iterable[str]) -> str | None:
    """A PostgreSQL regular expression matching any keyword as whole words, or None for none."""
    words = [re.escape(keyword.strip()) for keyword in keywords if keyword.strip()]
    return r"\m(?:" + "|".join(words) + r")\M" if words else None


def project_weights(project: Project) -> dict[str, int]:
    """The project's weights, every part present (a part missing from old data weighs its default)."""
    defaults = default_score_weights()
    stored = project.score_weights if isinstance(project.score_weights, dict) else {}
    return {part: int(stored.get(part, defaults[part])) for part in PARTS}


@transaction.atomic
def prospects_rescore(
    *, project: Project, prospect_ids: Iterable[int] | None = None, today: date | None = None
) -> int:
    """Recompute score, breakdown, authority and competitors linked of the project's prospects
    (all, or only ``prospect_ids``); returns how many were updated.

    Two statements, whatever the number of prospects: the scores go into a temporary table
    (analysed, so the planner knows its size), then one UPDATE … FROM it. Prospects created in
    this very transaction are not in the table statistics yet; planning the UPDATE against a
    table of known size keeps it a hash join instead of a nested loop over 50k × 50k rows.
    """
    params = rescore_params(project, prospect_ids=prospect_ids, today=today)
    if params["ids"] == []:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_SCORES}")
        cursor.execute(SCORES_ALL_SQL if params["ids"] is None else SCORES_SOME_SQL, params)
        cursor.execute(f"ANALYZE {_SCORES}")
        cursor.execute(_UPDATE_SQL)
        updated = cursor.rowcount
        cursor.execute(f"DROP TABLE {_SCORES}")
    return updated


def rescore_params(
    project: Project, *, prospect_ids: Iterable[int] | None, today: date | None
) -> dict[str, Any]:
    """The bound values of the rescore statements for one project."""
    sites = gap_sites(project)
    keywords = keyword_pattern(project.keywords)
    weights = project_weights(project)
    return {
        "project": project.id, "sites": sites.ids or [-1],
        "competitors": [site.id for site in sites.competitors] or [-1], "n_comp": len(sites.competitors),
        "today": today or timezone.localdate(), "keywords": keywords or "",
        "has_keywords": keywords is not None, "ids": None if prospect_ids is None else list(prospect_ids),
        "spam_tlds": list(SPAM_TLDS), "spam_words": [f"%{word}%" for word in SPAM_WORDS],
        "sample": RELEVANCE_SAMPLE, "freshness_days": FRESHNESS_DAYS,
        **{f"w_{part}": weight for part, weight in weights.items()},
    }  # fmt: skip


_SCORES = "prospects_rescore_scores"

# One row per prospect, the plan linear whatever the estimates: the prospects, each one's live
# referring-domain rows on the compared sites (refdomain_gap_live), and per such row a sample
# of its links (the LATERAL aggregates them, so nothing fans out before the GROUP BY).
_FACTS = """
SELECT p.id, p.domain,
    max(COALESCE(r.semrush_ascore, r.ahrefs_dr, r.majestic_tf)) AS authority,
    count(r.site_id) FILTER (WHERE r.site_id = ANY(%(competitors)s)) AS comps,
    sum(r.backlinks) AS links, sum(r.follow_backlinks) AS follow,
    max(b.newest) AS newest, COALESCE(sum(b.sampled), 0) AS sampled, COALESCE(sum(b.relevant), 0) AS relevant,
    max(b.toxic) AS toxic, COALESCE(bool_or(b.spam), false) AS spam
FROM prospects_prospect p
LEFT JOIN audit_refdomain r ON r.domain = p.domain AND r.site_id = ANY(%(sites)s) AND r.lost_at IS NULL
LEFT JOIN LATERAL (
    SELECT max(x.first_seen) FILTER (WHERE x.lost_at IS NULL) AS newest, count(*) AS sampled,
        count(*) FILTER (WHERE %(has_keywords)s AND (x.source_title || ' ' || x.anchor) ~* %(keywords)s)
            AS relevant,
        max(x.semrush_toxic_score) AS toxic, bool_or(x.ahrefs_is_spam) AS spam
    FROM (
        -- No ORDER BY: the first links in index order, so the scan stops at the sample size.
        SELECT * FROM audit_backlink x WHERE x.site_id = r.site_id AND x.source_domain = p.domain
        LIMIT %(sample)s
    ) x
) b ON r.site_id IS NOT NULL
WHERE {prospects}
GROUP BY p.id, p.domain
"""

# Each layer is fenced (OFFSET 0) so its expressions are computed once per prospect, not
# copied into every expression of the layers above.
_VALUES = """
SELECT f.*, """ + _PATTERN_RISK + """ AS pattern_risk,
    f.authority AS v_authority,  -- provider scores are 0-100 (the loader refuses others)
    CASE WHEN %(n_comp)s > 0 THEN round(100.0 * f.comps / %(n_comp)s)::int END AS v_competitors,
    CASE WHEN f.newest IS NOT NULL THEN LEAST(100, GREATEST(0,
        round(100 * (1 - (%(today)s::date - f.newest) / %(freshness_days)s::numeric))))::int END
        AS v_freshness,
    CASE WHEN f.links > 0 THEN round(100.0 * f.follow / f.links)::int END AS v_follow,
    CASE WHEN %(has_keywords)s AND f.sampled > 0 THEN round(100.0 * f.relevant / f.sampled)::int END
        AS v_relevance
FROM ({facts}) f OFFSET 0
"""

_PART_SQL = {
    "authority": ("s.v_authority", "jsonb_build_object('authority', s.authority)"),
    "competitors": ("s.v_competitors", "jsonb_build_object('linked', s.comps, 'of', %(n_comp)s)"),
    "freshness": ("s.v_freshness", "jsonb_build_object('newest_link', s.newest, "
                                   "'age_days', %(today)s::date - s.newest)"),
    "follow": ("s.v_follow", "jsonb_build_object('follow', s.follow, 'links', s.links)"),
    "relevance": ("s.v_relevance", "jsonb_build_object('matching', s.relevant, 'links', s.sampled, "
                                   "'keywords', %(has_keywords)s)"),
    "spam": ("s.v_spam", "jsonb_build_object('toxic_score', s.toxic, 'flagged_spam', s.spam, "
                         "'pattern_risk', s.pattern_risk, 'risk', 100 - s.v_spam)"),
}  # fmt: skip


def _scores_sql(prospects: str) -> str:
    """CREATE TEMP TABLE of (id, score, authority, comps, breakdown): facts → values → weighted mean."""
    values = _VALUES.replace("{facts}", _FACTS.replace("{prospects}", prospects))
    spam = "100 - GREATEST(COALESCE(v.toxic, 0), CASE WHEN v.spam THEN 100 ELSE 0 END, v.pattern_risk)"
    names = {part: value.removeprefix("s.") for part, (value, _) in _PART_SQL.items()}
    used = " + ".join(f"CASE WHEN w.{v} IS NULL THEN 0 ELSE %(w_{part})s END" for part, v in names.items())
    total = " + ".join(f"COALESCE(w.{v}, 0) * %(w_{part})s" for part, v in names.items())
    parts = ", ".join(
        f"'{part}', jsonb_build_object('value', {value}, 'weight', %(w_{part})s, 'contribution', "
        f"CASE WHEN {value} IS NULL OR s.used = 0 THEN 0 "
        f"ELSE round({value} * %(w_{part})s / s.used::numeric, 1) END, "
        f"'facts', {facts})"
        for part, (value, facts) in _PART_SQL.items()
    )
    return (
        f"CREATE TEMP TABLE {_SCORES} ON COMMIT DROP AS SELECT s.id, s.score, s.authority, s.comps,"
        f" jsonb_build_object('score', s.score, 'parts', jsonb_build_object({parts})) AS breakdown FROM ("
        " SELECT t.*, CASE WHEN t.used > 0 THEN round(t.total::numeric / t.used)::int ELSE 0 END AS score"
        " FROM ("
        f"  SELECT w.*, ({used}) AS used, ({total}) AS total FROM ("
        f"   SELECT v.*, {spam} AS v_spam FROM ({values}) v OFFSET 0"
        "  ) w OFFSET 0"
        " ) t OFFSET 0"
        ") s"
    )


SCORES_ALL_SQL = _scores_sql("p.project_id = %(project)s")
SCORES_SOME_SQL = _scores_sql("p.project_id = %(project)s AND p.id = ANY(%(ids)s::bigint[])")
_UPDATE_SQL = (
    f"UPDATE prospects_prospect x SET score = s.score, authority = s.authority, competitors_linked = s.comps,"
    f" score_breakdown = s.breakdown, updated_at = now() FROM {_SCORES} s WHERE x.id = s.id"
)
