"""The toxicity audit: named markers, each with a weight and a plain-language reason, and the
set-based scoring of a site's links and referring domains.

A marker is a yes/no fact about one link, computed in SQL from data we hold (``audit_backlink``,
``audit_refdomain`` and the site's money terms). A link's score is the sum of the weights of
the markers that fired, clamped to 0-100; which markers fired is kept as a bitmask
(``LinkToxicity.markers``, bit ``Marker.bit``) so the UI can say *why*. A referring domain's
score is its worst live link's score (its worst link at all when every link is lost), its
markers every marker of its links. Bands are settings: toxic from ``LINKCRM_TOXIC_MIN``
(default 60), potentially toxic from ``LINKCRM_POTENTIALLY_TOXIC_MIN`` (default 45).
docs/toxicity.md explains every marker and compares the score with Semrush's.

How it stays fast (``make bench-audit``: 1M links): nothing is scored row by row in Python.
Anchors are classified once per DISTINCT anchor (``audit.anchors``), domain facts once per
referring domain into a temporary table, then ONE statement scores every link of the site
(a join, a few comparisons and one regex per row), inserts the link scores and aggregates
the domain scores from the same materialised rows. Links scoring 0 are not stored (nothing to
review: at 1M links that halves the writes); every referring domain is.
"""

# SQL here is assembled from constants (marker bits, weights, expressions) only; values are bound.
# ruff: noqa: S608

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audit.anchors import AnchorTerms, classify_anchor
from audit.choices import AnchorCategory, ToxicityBand, ToxicityRunStatus
from audit.loading import side_connection
from audit.models import SEMRUSH_TOXIC_MIN, LinkImport, Site, ToxicityRun

logger = logging.getLogger(__name__)

RUN_TASK = "audit.tasks.toxicity_run_task"
# A link on a page with more outbound links than this sits on a link list or a directory.
EXTERNAL_LINKS_MAX = 100
# Authority (Semrush AS, else Ahrefs DR, else Majestic TF; 0-100) below this is "low".
LOW_AUTHORITY_BELOW = 5
# This many referring domains of one site on one IPv4 /24 look like one owner's network.
NETWORK_MIN_DOMAINS = 3
# TLDs that anti-abuse reports (Spamhaus, SURBL) list among the most abused, cheap to register.
SPAM_TLDS: tuple[str, ...] = (
    "tk", "ml", "ga", "cf", "gq", "xyz", "top", "icu", "buzz", "club", "online", "site", "shop", "live",
    "click", "link", "work", "loan", "win", "bid", "racing", "review", "stream", "download", "cam",
    "rest", "fit", "monster", "sbs", "cfd", "quest", "cyou", "bond",
)  # fmt: skip
# Words of the usual spam verticals and of link selling, found in a source URL or page title
# (lower-cased, anywhere in a word: plain substring tests are several times cheaper than a regex).
SPAM_WORDS: tuple[str, ...] = (
    "casino", "poker", "betting", "porn", "viagra", "cialis", "payday", "escort", "replica", "backlink",
    "seo-", "-seo", "directory", "pbn",
)  # fmt: skip


@dataclass(frozen=True)
class Marker:
    """One named marker: its bit, weight (points; negative lowers risk) and why it matters."""

    bit: int
    code: str
    name: str
    weight: int
    reason: str
    provider: bool = False  # an input from a provider's own verdict, not our own judgement

    @property
    def mask(self) -> int:
        return 1 << self.bit


MARKERS: tuple[Marker, ...] = (
    Marker(0, "money_anchor", "Money anchor", 20,
           "The anchor is (or contains) one of your commercial keywords: exact-match anchors are the "
           "classic footprint of placed or bought links, and too many of them over-optimise a profile."),
    Marker(1, "compound_anchor", "Compound anchor", 10,
           "The anchor mixes your brand with other words (e.g. 'brand + keyword'): natural in small "
           "numbers, a sign of templated link building in bulk."),
    Marker(2, "sitewide", "Sitewide link", 10,
           "The link appears on every page of the source site (footer, sidebar, blogroll): typical of "
           "paid placements and rarely an editorial choice."),
    Marker(3, "many_external", "Too many outbound links", 15,
           f"The source page links out to more than {EXTERNAL_LINKS_MAX} other sites: link lists, "
           "directories and comment spam pages look like this."),
    Marker(4, "spam_tld", "Spam-correlated TLD", 15,
           "The referring domain is on a TLD that anti-abuse reports rank among the most abused "
           "(cheap or free registrations): " + ", ".join(f".{t}" for t in SPAM_TLDS) + "."),
    Marker(5, "domain_pattern", "Machine-made domain name", 10,
           "The referring domain's name has 4 or more digits, 2 or more hyphens, or more than 20 "
           "characters: names like these are mass-registered for link farms."),
    Marker(6, "spam_words", "Spam words in URL or title", 25,
           "The source page's URL or title contains words of spam verticals or link selling "
           "(" + ", ".join(w.strip("-") for w in SPAM_WORDS if not w.startswith("-")) + ")."),
    Marker(7, "low_authority", "Low authority", 15,
           f"The referring domain's authority is below {LOW_AUTHORITY_BELOW} of 100 (Semrush AS, else "
           "Ahrefs DR, else Majestic TF): no real audience, often a throw-away site."),
    Marker(8, "link_network", "Link network", 20,
           f"{NETWORK_MIN_DOMAINS} or more of your referring domains share this domain's IPv4 /24: "
           "many sites on one subnet linking to you is what private blog networks look like."),
    Marker(9, "provider_spam", "Ahrefs: spam", 40,
           "Ahrefs flags the referring page as spam ('Is spam').", provider=True),
    Marker(10, "provider_toxic", "Semrush: toxic", 40,
           "Semrush's Backlink Audit gives the link a Toxic Score of 60 or more.", provider=True),
    Marker(11, "provider_potential", "Semrush: potentially toxic", 20,
           "Semrush's Backlink Audit gives the link a Toxic Score of 45 to 59.", provider=True),
    Marker(12, "broken_page", "Source page errors", 10,
           "The source page answered with an HTTP error (4xx/5xx): abandoned or de-indexed pages "
           "are common in link farms."),
    Marker(13, "nofollow", "Nofollow / UGC / sponsored", -15,
           "The link is marked rel=nofollow, ugc or sponsored: search engines do not count it as an "
           "endorsement, so it carries less risk."),
    Marker(14, "lost", "Lost link", -20,
           "The link is gone from the source page: it can no longer hurt, reviewing it is less urgent."),
)  # fmt: skip
MARKERS_BY_CODE: dict[str, Marker] = {marker.code: marker for marker in MARKERS}


def _bit(code: str) -> int:
    return MARKERS_BY_CODE[code].mask


# Per referring domain (alias r of audit_refdomain): facts that hold for all its links.
_DOMAIN_MARKS = {
    "spam_tld": "r.tld = ANY(%(spam_tlds)s)",
    # Counting by translate/replace: a regex per domain costs several times more at 200k domains.
    "domain_pattern": "(length(split_part(r.domain, '.', 1))"
                      " - length(translate(split_part(r.domain, '.', 1), '0123456789', '')) >= 4"
                      " OR length(split_part(r.domain, '.', 1))"
                      " - length(replace(split_part(r.domain, '.', 1), '-', '')) >= 2"
                      " OR length(split_part(r.domain, '.', 1)) > 20)",
    "link_network": "family(r.ip) = 4 AND count(*) OVER (PARTITION BY network(set_masklen(r.ip, 24)))"
                    " >= %(network_min)s",
}  # fmt: skip
# Per link (alias b of audit_backlink, d of the domain facts, a of the anchor classes).
_LINK_MARKS = {
    "sitewide": "b.sitewide",
    "many_external": "b.external_links > %(external_max)s",
    "spam_words": "s.id IS NOT NULL",  # found beforehand, in parallel: see _spam_table
    "low_authority": "COALESCE(b.semrush_domain_ascore, b.ahrefs_dr, d.authority) < %(low_authority)s",
    "provider_spam": "b.ahrefs_is_spam",
    "provider_toxic": f"b.semrush_toxic_score >= {SEMRUSH_TOXIC_MIN}",
    "provider_potential": f"b.semrush_toxic_score BETWEEN 45 AND {SEMRUSH_TOXIC_MIN - 1}",
    "broken_page": "b.http_status >= 400",
    "nofollow": "(b.nofollow OR b.ugc OR b.sponsored)",
    "lost": "b.lost_at IS NOT NULL",
}  # fmt: skip


def _flags_sql(expressions: dict[str, str], *, use_provider_flags: bool) -> str:
    """``(CASE WHEN <expr> THEN <bit> ELSE 0 END) | ...`` for the markers given."""
    parts = [
        f"(CASE WHEN {sql} THEN {_bit(code)} ELSE 0 END)"
        for code, sql in expressions.items()
        if use_provider_flags or not MARKERS_BY_CODE[code].provider
    ]
    return " | ".join(parts) or "0"


def _weight_table(bits: range) -> list[int]:
    """Sum of the weights of every combination of ``bits`` (index = those bits of a mask)."""
    weights = {m.bit: m.weight for m in MARKERS}
    table = []
    for combination in range(1 << len(bits)):
        table.append(sum(weights.get(bit, 0) for n, bit in enumerate(bits) if combination >> n & 1))
    return table


# A score from a mask in two array lookups (low 8 bits, the rest) instead of 15 shifts per link.
_LOW_BITS = range(8)
_HIGH_BITS = range(8, 16)


def _score_sql(column: str) -> str:
    """The 0-100 score of a bitmask column: the sum of the weights of its set bits, clamped."""
    return (f"LEAST(100, GREATEST(0, (%(w_low)s::int[])[({column} & 255) + 1]"
            f" + (%(w_high)s::int[])[({column} >> 8) + 1]))")  # fmt: skip


# --- bands ----------------------------------------------------------------------------------


def toxic_min() -> int:
    return settings.LINKCRM_TOXIC_MIN


def potential_min() -> int:
    return settings.LINKCRM_POTENTIALLY_TOXIC_MIN


def band_of(score: int | None) -> ToxicityBand | None:
    """The band a score falls in under the configured limits (None for an unscored link)."""
    if score is None:
        return None
    if score >= toxic_min():
        return ToxicityBand.TOXIC
    if score >= potential_min():
        return ToxicityBand.POTENTIAL
    return ToxicityBand.NON_TOXIC


def band_range(band: str) -> tuple[int, int]:
    """(lowest, highest) score of a band, inclusive."""
    if band == ToxicityBand.TOXIC:
        return toxic_min(), 100
    if band == ToxicityBand.POTENTIAL:
        return potential_min(), toxic_min() - 1
    return 0, potential_min() - 1


def markers_of(mask: int) -> list[Marker]:
    """The markers whose bits are set in ``mask``, in MARKERS order."""
    return [marker for marker in MARKERS if mask & marker.mask]


# --- scoring --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreResult:
    links: int
    domains: int


Progress = Callable[[str, int], None]
STEPS = ("Classifying anchors", "Reading referring domains", "Scoring links and domains")
# The anchor as links are grouped and joined by: trimmed, lower-cased byte-wise (ASCII only:
# cheaper than the locale's lower(), and the anchor classifier folds case itself).
ANCHOR_KEY = 'lower(btrim(b.anchor) COLLATE "C")'


def toxicity_score_site(
    *, site: Site, use_provider_flags: bool = True, progress: Progress | None = None
) -> ScoreResult:
    """Replace the site's link and referring-domain toxicity with a fresh scoring, atomically.

    ``use_provider_flags=False`` leaves out the markers that restate a provider's verdict
    (used to compare our own judgement with Semrush's). ``progress(step, done)`` is told each
    step as it starts. Two scorings of one site never overlap (an advisory lock serialises them).
    """
    report = progress or (lambda step, done: None)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(7406, %s)", [site.id])
        cursor.execute("SET LOCAL jit = off")  # one pass over the rows: compiling does not pay
        # ON COMMIT DROP does not fire when the caller's transaction is still open (a savepoint).
        cursor.execute("DROP TABLE IF EXISTS pg_temp.tox_anchor, pg_temp.tox_domain, pg_temp.tox_spam")
        # Hash joins on the domain facts (in memory) beat walking 1M links in domain order.
        cursor.execute(
            "SET LOCAL work_mem = '256MB'; SET LOCAL enable_mergejoin = off; SET LOCAL enable_nestloop = off"
        )
        report(STEPS[0], 0)
        _anchor_table(cursor, site)
        report(STEPS[1], 1)
        params = _params(site)
        _domain_table(cursor, params, use_provider_flags)
        _spam_table(cursor, params)
        cursor.execute("DELETE FROM audit_linktoxicity WHERE site_id = %(site)s", params)
        cursor.execute("DELETE FROM audit_refdomaintoxicity WHERE site_id = %(site)s", params)
        report(STEPS[2], 2)
        cursor.execute(_scoring_sql(use_provider_flags), params)
        links, domains = cursor.fetchone()
    return ScoreResult(links=links or 0, domains=domains or 0)


def _params(site: Site) -> dict[str, object]:
    return {
        "site": site.id, "spam_tlds": list(SPAM_TLDS),
        "network_min": NETWORK_MIN_DOMAINS, "external_max": EXTERNAL_LINKS_MAX,
        "spam_words": [f"%{word}%" for word in SPAM_WORDS],
        "low_authority": LOW_AUTHORITY_BELOW, "toxic_min": toxic_min(),
        "w_low": _weight_table(_LOW_BITS), "w_high": _weight_table(_HIGH_BITS),
    }  # fmt: skip


def _anchor_table(cursor: psycopg.Cursor, site: Site) -> None:
    """tox_anchor(anchor, marks): each distinct anchor of the site that fires an anchor marker."""
    terms = AnchorTerms.build(brand_terms=site.brand_terms, money_terms=site.money_terms, domain=site.domain)
    cursor.execute(
        f"SELECT DISTINCT {ANCHOR_KEY} FROM audit_backlink b WHERE b.site_id = %s AND b.anchor <> ''", [site.id]
    )
    bits = {
        AnchorCategory.EXACT_MATCH: _bit("money_anchor"), AnchorCategory.PARTIAL_MATCH: _bit("money_anchor"),
        AnchorCategory.COMPOUND: _bit("compound_anchor"),
    }  # fmt: skip
    rows = [(anchor, bits[kind]) for (anchor,) in cursor.fetchall() if (kind := classify_anchor(anchor, terms=terms))
            in bits]  # fmt: skip
    cursor.execute(
        'CREATE TEMP TABLE tox_anchor (anchor text COLLATE "C" PRIMARY KEY, marks int NOT NULL) ON COMMIT DROP'
    )
    cursor.execute(
        "INSERT INTO tox_anchor SELECT * FROM unnest(%s::text[], %s::int[])",
        [[anchor for anchor, _ in rows], [mark for _, mark in rows]],
    )


def _domain_table(cursor: psycopg.Cursor, params: dict[str, object], use_provider_flags: bool) -> None:
    """tox_domain(domain, marks, authority): the per-domain markers, once per referring domain.

    A temporary table, analysed, rather than a CTE: with its real (narrow) width the planner
    hashes these 200k rows and streams the links past them, instead of hashing the 1M links."""
    cursor.execute(
        'CREATE TEMP TABLE tox_domain (domain text COLLATE "C", marks int NOT NULL, authority int) ON COMMIT DROP'
    )
    flags = _flags_sql(_DOMAIN_MARKS, use_provider_flags=use_provider_flags)
    cursor.execute(
        f"INSERT INTO tox_domain SELECT r.domain, {flags}, COALESCE(r.semrush_ascore, r.ahrefs_dr, r.majestic_tf)"
        " FROM audit_refdomain r WHERE r.site_id = %(site)s",
        params,
    )
    cursor.execute("ANALYZE tox_domain")


# Spam words in the source URL or title (lower-cased byte-wise; LIKE ANY beats one regex).
SPAM_WORDS_SQL = "lower((b.source_url || ' ' || b.source_title) COLLATE \"C\") LIKE ANY (%(spam_words)s)"


def _spam_table(cursor: psycopg.Cursor, params: dict[str, object]) -> None:
    """tox_spam(id): the site's links whose URL or title holds a spam word.

    The text search is the costliest marker (14 substring scans of ~150 bytes per link). A
    statement that writes through a CTE never runs in parallel, but CREATE TABLE AS does: on
    this 2-core machine the parallel scan takes about 60 % of the time of the serial one."""
    cursor.execute(
        "CREATE TEMP TABLE tox_spam ON COMMIT DROP AS"
        f" SELECT b.id FROM audit_backlink b WHERE b.site_id = %(site)s AND {SPAM_WORDS_SQL}",
        params,
    )
    cursor.execute("ANALYZE tox_spam")


def _scoring_sql(use_provider_flags: bool) -> str:
    """One statement: every link scored (hash joins on the domain facts and the anchor classes),
    stored, and aggregated per domain."""
    flags = _flags_sql(_LINK_MARKS, use_provider_flags=use_provider_flags)
    return f"""
    WITH scored AS MATERIALIZED (
        -- OFFSET 0 keeps the inner query whole: pulled up, its marks expression would be
        -- evaluated once per reference in the score expression.
        SELECT id, source_domain, live, marks, {_score_sql("marks")} AS score FROM (
            SELECT b.id, b.source_domain, b.lost_at IS NULL AS live,
                   COALESCE(d.marks, 0) | (CASE WHEN b.link_type <> 'image' THEN COALESCE(a.marks, 0) ELSE 0 END)
                   | {flags} AS marks
            FROM audit_backlink b
            LEFT JOIN tox_domain d ON d.domain = b.source_domain
            LEFT JOIN tox_anchor a ON a.anchor = {ANCHOR_KEY}
            LEFT JOIN tox_spam s ON s.id = b.id
            WHERE b.site_id = %(site)s
            OFFSET 0
        ) marked
    ), links AS (
        INSERT INTO audit_linktoxicity (backlink_id, site_id, score, markers)
        SELECT id, %(site)s, score, marks FROM scored WHERE score > 0
    ), stored AS (
        INSERT INTO audit_refdomaintoxicity (site_id, domain, score, markers, links, toxic_links)
        SELECT %(site)s, source_domain, COALESCE(max(score) FILTER (WHERE live), max(score)), bit_or(marks),
               count(*), count(*) FILTER (WHERE score >= %(toxic_min)s)
        FROM scored GROUP BY source_domain
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM scored), (SELECT count(*) FROM stored)
    """


# --- background runs ------------------------------------------------------------------------


def toxicity_run_queue(
    *, site: Site, requested_by: object | None = None, link_import: LinkImport | None = None
) -> ToxicityRun:
    """Record a queued scoring of ``site`` and enqueue its task when the caller's transaction
    commits (an import's own transaction: no scoring of data that then rolls back)."""
    from django_q.tasks import async_task

    run = ToxicityRun.objects.create(
        site=site, requested_by=requested_by, link_import=link_import, steps_total=len(STEPS) + 1
    )
    transaction.on_commit(lambda: async_task(RUN_TASK, run.id, task_name=f"toxicity-{run.id}"))
    return run


def toxicity_run(*, run_id: int) -> ToxicityRun:
    """Runs a queued scoring to its end (succeeded or failed), publishing each step as it starts.

    A run that is not queued (already done, or running elsewhere) is returned untouched.
    """
    claimed = ToxicityRun.objects.filter(id=run_id, status=ToxicityRunStatus.QUEUED).update(
        status=ToxicityRunStatus.RUNNING, started_at=timezone.now()
    )
    run = ToxicityRun.objects.select_related("site").get(id=run_id)
    if not claimed:
        return run
    side = _StepReporter(run_id)
    try:
        result = toxicity_score_site(site=run.site, progress=side.publish)
    except Exception as exc:
        logger.exception("toxicity run %s failed", run_id)
        side.close()
        ToxicityRun.objects.filter(id=run_id).update(
            status=ToxicityRunStatus.FAILED, finished_at=timezone.now(), error=f"nothing was changed: {exc!r}"
        )
    else:
        side.close()
        ToxicityRun.objects.filter(id=run_id).update(
            status=ToxicityRunStatus.SUCCEEDED, finished_at=timezone.now(), step="Done",
            steps_done=len(STEPS) + 1, links_scored=result.links, domains_scored=result.domains,
        )  # fmt: skip
    run.refresh_from_db()
    return run


class _StepReporter:
    """Writes the current step over its own autocommit connection: the scoring's transaction
    stays open to the end, so nothing it writes could show progress."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self._conn: psycopg.Connection | None = None

    def publish(self, step: str, done: int) -> None:
        try:
            if self._conn is None:
                self._conn = side_connection()
            self._conn.execute(
                "UPDATE audit_toxicityrun SET step = %s, steps_done = %s WHERE id = %s", [step, done, self.run_id]
            )
        except psycopg.Error:
            logger.warning("toxicity run %s: progress not published", self.run_id)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
