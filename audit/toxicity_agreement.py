"""How our toxicity score agrees with Semrush's "Toxic Score", link by link (docs/toxicity.md).

``agreement(site)`` scores the site WITHOUT the provider markers (so Semrush's own verdict is
not an input to the score it is compared with) and counts links per (Semrush band, our band),
both on the default limits (toxic 60-100, potentially toxic 45-59, non-toxic 0-44), over the
links that carry a Semrush Toxic Score. ``markdown(result)`` renders the docs' table. Nothing
here is tuned to any file: the weights are audit.toxicity.MARKERS as they are.
"""

# ruff: noqa: S608 - constant SQL

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from audit import toxicity
from audit.models import Site

BANDS = (("toxic", 60, 100), ("potential", 45, 59), ("non_toxic", 0, 44))
LABELS = {"toxic": "Toxic (60-100)", "potential": "Potentially toxic (45-59)", "non_toxic": "Non-toxic (0-44)"}


@dataclass(frozen=True)
class Agreement:
    counts: dict[tuple[str, str], int]  # (semrush band, our band) -> links
    links: int
    pearson: float | None
    markers: dict[str, int]  # marker code -> links it fired on


def _band_sql(column: str) -> str:
    cases = " ".join(f"WHEN {column} BETWEEN {lo} AND {hi} THEN '{name}'" for name, lo, hi in BANDS)
    return f"CASE {cases} END"


def agreement(site: Site) -> Agreement:
    """Score ``site`` without provider markers and compare with each link's Semrush Toxic Score."""
    toxicity.toxicity_score_site(site=site, use_provider_flags=False)
    # Links scoring 0 have no score row: the left join counts them as 0 with no markers.
    rows = (
        "FROM audit_backlink b LEFT JOIN audit_linktoxicity t ON t.backlink_id = b.id AND t.site_id = b.site_id"
        " WHERE b.site_id = %s AND b.semrush_toxic_score IS NOT NULL"
    )
    with connection.cursor() as cursor:
        bands = f"{_band_sql('b.semrush_toxic_score')}, {_band_sql('COALESCE(t.score, 0)')}"
        cursor.execute(f"SELECT {bands}, count(*) {rows} GROUP BY 1, 2", [site.id])
        counts = {(theirs, ours): n for theirs, ours, n in cursor.fetchall()}
        cursor.execute(f"SELECT count(*), corr(b.semrush_toxic_score, COALESCE(t.score, 0)) {rows}", [site.id])
        links, pearson = cursor.fetchone()
        fired = ", ".join(f"count(*) FILTER (WHERE t.markers & {m.mask} <> 0)" for m in toxicity.MARKERS)
        cursor.execute(f"SELECT {fired} {rows}", [site.id])
        markers = dict(zip((m.code for m in toxicity.MARKERS), cursor.fetchone(), strict=True))
    return Agreement(counts=counts, links=links, pearson=pearson, markers=markers)


def markdown(result: Agreement) -> str:
    """The agreement table, the share of links in the same band, and the correlation."""
    names = [name for name, _, _ in BANDS]
    out = ["| Semrush Toxic Score \\ our score | " + " | ".join(LABELS[n] for n in names) + " | links |",
           "|---|" + "---:|" * (len(names) + 1)]  # fmt: skip
    for theirs in names:
        cells = [result.counts.get((theirs, ours), 0) for ours in names]
        out.append(f"| {LABELS[theirs]} | " + " | ".join(f"{n:,}" for n in cells) + f" | {sum(cells):,} |")
    same = sum(result.counts.get((n, n), 0) for n in names)
    share = same / result.links if result.links else 0.0
    pearson = "n/a" if result.pearson is None else f"{result.pearson:.2f}"
    out.append("")
    out.append(f"Links compared: {result.links:,}; same band: {same:,} ({share:.0%}); "
               f"Pearson correlation of the scores: {pearson}.")  # fmt: skip
    out.append("")
    out.append("| marker | links scoring above 0 it fired on |")
    out.append("|---|---:|")
    out.extend(f"| {toxicity.MARKERS_BY_CODE[code].name} | {n:,} |" for code, n in result.markers.items() if n)
    return "\n".join(out)
