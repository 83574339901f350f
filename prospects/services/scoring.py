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
    "LEAST(100, CASE WHEN substring(p.domain from '[^.]+$') = ANY(%(spam_tlds)s) THEN 30 ELSE 0 END"
    " + CASE WHEN p.domain LIKE ANY(%(spam_words)s) THEN 60 ELSE 0 END"
    " + CASE WHEN split_part(p.domain, '.', 1) LIKE '%%-%%-%%'"
    " OR split_part(p.domain, '.', 1) ~ '[0-9]{4}' THEN 20 ELSE 0 END)"
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
    (all, or only ``prospect_ids``); returns how many were updated."""
    params = rescore_params(project, prospect_ids=prospect_ids, today=today)
    if params["ids"] == []:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(RESCORE_SQL, params)
        return cursor.rowcount


def rescore_params(
    project: Project, *, prospect_ids: Iterable[int] | None, today: date | None
) -> dict[str, Any]:
    """The bound values of RESCORE_SQL for one project."""
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


_FACTS = """
WITH p AS MATERIALIZED (
    SELECT id, domain FROM prospects_prospect
    WHERE project_id = %(project)s AND (%(ids)s::bigint[] IS NULL OR id = ANY(%(ids)s::bigint[]))
), pairs AS MATERIALIZED (
    -- (prospect, compared site) pairs with a live link: one probe of refdomain_gap_live each.
    SELECT p.id, p.domain, r.site_id, r.backlinks, r.follow_backlinks,
        COALESCE(r.semrush_ascore, r.ahrefs_dr, r.majestic_tf) AS authority
    FROM p JOIN audit_refdomain r ON r.domain = p.domain AND r.site_id = ANY(%(sites)s) AND r.lost_at IS NULL
), rd AS (
    SELECT id, max(authority) AS authority, count(*) FILTER (WHERE site_id = ANY(%(competitors)s)) AS comps,
        sum(backlinks) AS links, sum(follow_backlinks) AS follow
    FROM pairs GROUP BY id
), bl AS (
    SELECT pairs.id, max(b.first_seen) FILTER (WHERE b.lost_at IS NULL) AS newest, count(*) AS sampled,
        count(*) FILTER (WHERE %(has_keywords)s
                         AND (b.source_title || ' ' || b.anchor) ~* %(keywords)s) AS relevant,
        max(b.semrush_toxic_score) AS toxic, COALESCE(bool_or(b.ahrefs_is_spam), false) AS spam
    FROM pairs CROSS JOIN LATERAL (
        -- No ORDER BY: the first links in index order, so the scan stops at the sample size.
        SELECT x.first_seen, x.lost_at, x.source_title, x.anchor, x.semrush_toxic_score, x.ahrefs_is_spam
        FROM audit_backlink x WHERE x.site_id = pairs.site_id AND x.source_domain = pairs.domain
        LIMIT %(sample)s
    ) b
    GROUP BY pairs.id
), v AS MATERIALIZED (
    SELECT p.id, rd.authority, COALESCE(rd.comps, 0) AS comps, rd.links, rd.follow, bl.newest, bl.sampled,
        bl.relevant, bl.toxic, COALESCE(bl.spam, false) AS spam, """ + _PATTERN_RISK + """ AS pattern_risk,
        rd.authority AS v_authority,  -- provider scores are 0-100 (the loader refuses others)
        CASE WHEN %(n_comp)s > 0 THEN round(100.0 * COALESCE(rd.comps, 0) / %(n_comp)s)::int END
            AS v_competitors,
        CASE WHEN bl.newest IS NOT NULL THEN LEAST(100, GREATEST(0,
            round(100 * (1 - (%(today)s::date - bl.newest) / %(freshness_days)s::numeric))))::int END
            AS v_freshness,
        CASE WHEN rd.links > 0 THEN round(100.0 * rd.follow / rd.links)::int END AS v_follow,
        CASE WHEN %(has_keywords)s AND bl.sampled > 0 THEN round(100.0 * bl.relevant / bl.sampled)::int END
            AS v_relevance
    FROM p LEFT JOIN rd ON rd.id = p.id LEFT JOIN bl ON bl.id = p.id
), w AS (
    SELECT v.*,
        100 - GREATEST(COALESCE(v.toxic, 0), CASE WHEN v.spam THEN 100 ELSE 0 END, v.pattern_risk) AS v_spam
    FROM v
), t AS (
    SELECT w.*, """

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


def _rescore_sql() -> str:
    """The statement: facts → part values → weighted mean → UPDATE with the breakdown."""
    values = {part: value.removeprefix("s.") for part, (value, _) in _PART_SQL.items()}
    used = " + ".join(f"CASE WHEN {v} IS NULL THEN 0 ELSE %(w_{part})s END" for part, v in values.items())
    total = " + ".join(f"COALESCE({value}, 0) * %(w_{part})s" for part, value in values.items())
    parts = ", ".join(
        f"'{part}', jsonb_build_object('value', {value}, 'weight', %(w_{part})s, 'contribution', "
        f"CASE WHEN {value} IS NULL OR s.used = 0 THEN 0 "
        f"ELSE round({value} * %(w_{part})s / s.used::numeric, 1) END, "
        f"'facts', {facts})"
        for part, (value, facts) in _PART_SQL.items()
    )
    return (
        _FACTS + f"({used}) AS used, ({total}) AS total FROM w"
        "), s AS MATERIALIZED (SELECT t.*,"
        " CASE WHEN used > 0 THEN round(total::numeric / used)::int ELSE 0 END AS score FROM t)"
        " UPDATE prospects_prospect x SET score = s.score, authority = s.authority,"
        " competitors_linked = s.comps, "
        f"score_breakdown = jsonb_build_object('score', s.score, 'parts', jsonb_build_object({parts})), "
        "updated_at = now() FROM s WHERE x.id = s.id"
    )


RESCORE_SQL = _rescore_sql()
