"""``make bench-gap``: the backlink gap at 5 sites × 1M backlinks, against hand-written SQL.

What it does, all on this machine and without the internet:
1. starts its own PostgreSQL (the local stack's test profile, tuned like bench-import) on its
   own port and data directory (bench/out/gap-stack, gitignored) and migrates it;
2. loads, once, the seeded dataset of bench/gap_dataset.py: five sites with 1,000,000
   backlinks each over ~200,000 referring domains that overlap the way real competitors' do,
   through the real audit loader (so ``audit_refdomain`` is what imports maintain); later
   runs with the same parameters reuse it (``--fresh`` rebuilds it), then VACUUM ANALYZE as
   autovacuum would after an import;
3. a project promotes the first site against the four others; times the Best tab's first page
   with every tab's count, as the page gets it (``prospects.selectors.gap.gap_page``), and a
   hand-written SQL query giving the same answer (counts and the 50 rows with links per site),
   several runs each, and checks both answers are equal;
4. creates prospects from 50,000 gap rows ("all matching this filter": Missing, at least one
   competitor) through ``prospects_create_from_gap_filter`` — select, create, score — and
   checks 50,000 were created; they are deleted again first, so runs repeat;
5. stops PostgreSQL. The last line is machine-readable:
   ``RESULT gap p50_ms=<n> ratio_vs_sql=<x> prospects_50k_s=<n>``

Options: ``--runs N`` (default 9, after one warm-up), ``--domains``, ``--links``, ``--seed``,
``--port P`` (default 55482, or LINKCRM_BENCH_GAP_PG_PORT), ``--fresh``, ``--keep``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import log, psql, stack_config, start_postgres  # noqa: E402

TARGETS = {"p50_ms": 500, "ratio": 1.5, "prospects_s": 10}
PROJECT = "Bench: gap"


# --- the dataset -------------------------------------------------------------------------


def dataset_key(domains: int, links: int, seed: int) -> str:
    from gap_dataset import DATASET_VERSION

    return f"v{DATASET_VERSION} domains={domains} links={links} seed={seed}"


def ensure_dataset(domains: int, links: int, seed: int) -> None:
    """The five sites' profiles, loaded once per parameters (kept in a bench-only table)."""
    from django.db import connection

    key = dataset_key(domains, links, seed)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_gap_dataset (key text NOT NULL)")
        cursor.execute("SELECT key FROM bench_gap_dataset")
        if cursor.fetchone() == (key,):
            log(f"dataset: reusing {key}")
            return
        cursor.execute("TRUNCATE audit_site, prospects_project CASCADE")
        cursor.execute("DELETE FROM bench_gap_dataset")
    load_dataset(domains, links, seed)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_gap_dataset (key) VALUES (%s)", [key])


def load_dataset(domains: int, links: int, seed: int) -> None:
    import datetime as dt

    from django.db import transaction
    from gap_dataset import SITES, site_rows, universe

    from audit.choices import ImportFormat, ImportKind, ImportStatus, Provider
    from audit.loading import LoadLimits, LoadResult, LoadTarget, ProgressReporter, load_rows
    from audit.models import LinkImport
    from audit.services import site_get_or_create

    refdomains = universe(domains=domains, seed=seed)
    for index, domain in enumerate(SITES):
        started = time.monotonic()
        site = site_get_or_create(domain_or_url=domain)
        link_import = LinkImport.objects.create(
            site=site, file_name="bench-gap", format=ImportFormat.SEMRUSH_BACKLINKS,
            kind=ImportKind.BACKLINKS, status=ImportStatus.RUNNING,
        )  # fmt: skip
        target = LoadTarget(
            import_id=link_import.id, site_id=site.id, kind=ImportKind.BACKLINKS, provider=Provider.SEMRUSH,
            full_snapshot=True, import_date=dt.date(2025, 6, 1),
        )  # fmt: skip
        result = LoadResult()
        progress = ProgressReporter(link_import.id, interval=3600)
        try:
            with transaction.atomic():
                load_rows(target, site_rows(index, refdomains, links=links, seed=seed), result=result,
                          bytes_read=lambda: 0, progress=progress, limits=LoadLimits())  # fmt: skip
        finally:
            progress.close()
        LinkImport.objects.filter(id=link_import.id).update(
            status=ImportStatus.SUCCEEDED, rows_imported=result.rows_imported
        )
        log(f"loaded {domain}: {result.rows_imported:,} links in {time.monotonic() - started:.0f} s")


def bench_project() -> Any:
    from gap_dataset import SITES

    from audit.models import Site
    from prospects.models import Project, ProjectCompetitor

    project, _ = Project.objects.get_or_create(name=PROJECT)
    sites = {site.domain: site for site in Site.objects.filter(domain__in=SITES)}
    Project.objects.filter(id=project.id).update(
        site=sites[SITES[0]], keywords=["hiking", "camping tents", "trail"]
    )
    for domain in SITES[1:]:
        ProjectCompetitor.objects.get_or_create(project=project, site=sites[domain])
    project.refresh_from_db()
    return project


# --- measurements ------------------------------------------------------------------------


def timed(function: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    """Milliseconds of ``runs`` calls after one warm-up, and the last answer."""
    answer = function()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        answer = function()
        times.append((time.perf_counter() - started) * 1000)
    return times, answer


def selector_answer(project: Any) -> tuple[dict[str, int], list[tuple]]:
    from prospects.selectors.gap import GapQuery, GapTab, gap_page

    result = gap_page(project, GapQuery(tab=GapTab.BEST))
    rows = [
        (row.domain, row.authority, row.competitors_linked, *row.cells(result.sites))
        for row in result.page.rows
    ]
    return result.counts, rows


def hand_sql(project: Any) -> str:
    """The query one would write by hand for the same answer; no planner settings, no tricks."""
    from prospects.selectors.gap import gap_sites

    sites = gap_sites(project)
    you, n, ids = sites.you.id, len(sites.competitors), ", ".join(str(i) for i in sites.ids)
    per_site = ", ".join(f"max(links) FILTER (WHERE site_id = {site.id}) AS s{site.id}" for site in sites.all)
    page_sites = ", ".join(f"p.s{site.id}" for site in sites.all)
    links = "CASE WHEN backlinks > 0 THEN backlinks ELSE COALESCE(reported_backlinks, 0) END"
    return f"""
        WITH g AS (
            SELECT domain, max(links) FILTER (WHERE site_id = {you}) AS you,
                count(*) FILTER (WHERE site_id <> {you}) AS comps,
                max(links) FILTER (WHERE site_id <> {you}) AS comp_max,
                max(COALESCE(semrush_ascore, ahrefs_dr, majestic_tf)) AS authority, {per_site}
            FROM (SELECT r.*, {links} AS links
                  FROM audit_refdomain r WHERE site_id IN ({ids}) AND lost_at IS NULL) r
            GROUP BY domain
        ), f AS (
            SELECT * FROM g
            WHERE NOT EXISTS (SELECT 1 FROM prospects_prospect p WHERE p.project_id = {project.id}
                              AND p.pipeline = 'acquisition' AND p.domain = g.domain)
              AND NOT EXISTS (SELECT 1 FROM prospects_suppression s WHERE s.kind = 'domain'
                              AND s.value = g.domain
                              AND (s.project_id IS NULL OR s.project_id = {project.id}))
              AND NOT EXISTS (SELECT 1 FROM audit_backlink b WHERE b.site_id IN ({ids})
                              AND b.source_domain = g.domain
                              AND (b.ahrefs_is_spam OR b.semrush_toxic_score >= 60))
        )
        SELECT c.*, p.domain, p.authority, p.comps, {page_sites}
        FROM (SELECT count(*) FILTER (WHERE you IS NULL AND comps = {n}) AS best,
                     count(*) FILTER (WHERE you < comp_max) AS weak,
                     count(*) FILTER (WHERE you IS NOT NULL AND comps = 0) AS strong,
                     count(*) FILTER (WHERE you IS NOT NULL AND comps = {n}) AS shared,
                     count(*) FILTER (WHERE (you IS NOT NULL)::int + comps = 1) AS "unique",
                     count(*) FILTER (WHERE you IS NULL AND comps >= 2) AS missing,
                     count(*) AS "all" FROM f) c
        LEFT JOIN LATERAL (SELECT * FROM f WHERE you IS NULL AND comps = {n}
                           ORDER BY authority DESC NULLS LAST, domain COLLATE "C" LIMIT 50) p ON true
    """  # noqa: S608 - ids and numbers only


def sql_answer(sql: str) -> tuple[dict[str, int], list[tuple]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.fetchall()
    names = ("best", "weak", "strong", "shared", "unique", "missing", "all")
    counts = dict(zip(names, rows[0][:7], strict=True))
    return counts, [tuple(row[7:]) for row in rows if row[7] is not None]


def with_gap_planner(sql: str) -> Callable[[], tuple[dict[str, int], list[tuple]]]:
    """The same hand-written SQL under the gap's planner settings (for information)."""
    from django.db import connection, transaction

    def run() -> tuple[dict[str, int], list[tuple]]:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_hashagg = off; SET LOCAL jit = off; SET LOCAL work_mem = '64MB'")
            return sql_answer(sql)

    return run


def create_prospects(project: Any) -> tuple[float, Any]:
    from prospects.models import Prospect
    from prospects.selectors.gap import GapQuery, GapTab
    from prospects.services.gap_prospects import prospects_create_from_gap_filter

    Prospect.objects.filter(project=project).delete()
    query = GapQuery(tab=GapTab.MISSING, min_competitors=1)
    started = time.perf_counter()
    report = prospects_create_from_gap_filter(project=project, query=query, created_by=None, limit=50_000)
    seconds = time.perf_counter() - started
    Prospect.objects.filter(project=project).delete()  # the timed page above runs with none; so do later runs
    return seconds, report


def _runs(times: list[float]) -> str:
    return ", ".join(f"{t:.0f}" for t in times)


def check(label: str, value: float, limit: float, unit: str) -> None:
    log(
        f"  {label:<34} {value:>10.2f} {unit:<3} target < {limit} {unit}: {'ok' if value < limit else 'OVER'}"
    )


def bench(args: argparse.Namespace) -> None:
    config = stack_config(args.port, "gap")
    from linkcrm.localstack import postgres

    try:
        start_postgres(config, args.fresh)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linkcrm.settings")
        import django

        django.setup()
        ensure_dataset(args.domains, args.links, args.seed)
        psql(config, "VACUUM (ANALYZE) audit_refdomain, audit_backlink, prospects_prospect")
        log(
            f"PostgreSQL on 127.0.0.1:{config.pg_port} (bench only); "
            + ", ".join(
                f"{name}={psql(config, f'SHOW {name}')}" for name in ("shared_buffers", "work_mem", "jit")
            )
        )
        log(
            psql(
                config,
                "SELECT format('data: %s backlinks, %s live referring-domain rows, %s distinct domains',"
                " (SELECT count(*) FROM audit_backlink), (SELECT count(*) FROM audit_refdomain"
                " WHERE lost_at IS NULL), (SELECT count(DISTINCT domain) FROM audit_refdomain))",
            )
        )
        measure(bench_project(), args.runs)
    finally:
        if not args.keep:
            postgres.down(config)


def measure(project: Any, runs: int) -> None:
    gap_ms, gap = timed(lambda: selector_answer(project), runs)
    sql = hand_sql(project)
    sql_ms, raw = timed(lambda: sql_answer(sql), runs)
    tuned_ms, tuned = timed(with_gap_planner(sql), runs)
    if gap != raw or raw != tuned:
        raise SystemExit(
            f"the answers differ:\n selector {gap[0]} {gap[1][:3]}\n sql      {raw[0]} {raw[1][:3]}"
        )
    log(f"tab counts: {gap[0]}; first page: {len(gap[1])} rows, e.g. {gap[1][0]}")
    p50, sql_p50, tuned_p50 = (statistics.median(t) for t in (gap_ms, sql_ms, tuned_ms))
    log(f"Best tab, first page + counts (gap_page)  p50 {p50:7.1f} ms  runs {_runs(gap_ms)}")
    log(f"hand-written SQL, same answer             p50 {sql_p50:7.1f} ms  runs {_runs(sql_ms)}")
    log(f"  (the same SQL with the gap's planner settings: p50 {tuned_p50:.1f} ms)")
    seconds, report = create_prospects(project)
    log(f"prospects from 50k gap rows (select, create, score): created {report.created:,} "
        f"(left out {report.left_out:,}) in {seconds:.2f} s")  # fmt: skip
    if report.created != 50_000:
        raise SystemExit("expected 50,000 prospects")
    ratio = p50 / sql_p50
    log("targets:")
    check("Best tab p50", p50, TARGETS["p50_ms"], "ms")
    check("ratio to hand-written SQL", ratio, TARGETS["ratio"], "x")
    check("50k prospects", seconds, TARGETS["prospects_s"], "s")
    log(f"RESULT gap p50_ms={p50:.0f} ratio_vs_sql={ratio:.2f} prospects_50k_s={seconds:.1f}")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--domains", type=int, default=200_000)
    parser.add_argument("--links", type=int, default=1_000_000, help="backlinks per site")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=int(os.environ.get("LINKCRM_BENCH_GAP_PG_PORT", "55482")))
    parser.add_argument("--fresh", action="store_true", help="rebuild the dataset")
    parser.add_argument("--keep", action="store_true", help="leave the bench PostgreSQL running")
    bench(parser.parse_args(argv))


if __name__ == "__main__":
    main(sys.argv[1:])
