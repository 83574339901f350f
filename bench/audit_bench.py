"""``make bench-audit``: how fast the toxicity audit scores a site of 1,000,000 backlinks.

What it does, all on this machine and without the internet:
1. starts its own PostgreSQL (the local stack's test profile, tuned like bench-import) on its
   own port and data directory (bench/out/audit-stack, gitignored) and migrates it;
2. loads, once, a seeded 1,000,000-row synthetic Semrush Backlinks export (audit.synthetic,
   the file bench-import caches too) through the real import (link_import_store +
   link_import_run: parse, loader, referring-domain aggregates), with the synthetic site's
   brand and money terms; later runs reuse it (``--fresh`` rebuilds), then VACUUM ANALYZE;
3. times ``audit.toxicity.toxicity_score_site`` — only the scoring: classify anchors, domain
   facts, score and store every link and referring domain, replacing the previous scores —
   ``--runs`` times after one warm-up, and checks every link got a score;
4. stops PostgreSQL. The last line is machine-readable: ``RESULT audit links_per_s=<n>``
   (the median run). Target: at least 100,000 links per second.

Options: ``--rows N`` (default 1,000,000), ``--seed S``, ``--runs N`` (default 3),
``--port P`` (default 55488, or LINKCRM_BENCH_AUDIT_PG_PORT), ``--fresh``, ``--keep``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import common  # noqa: E402
from common import log, psql, start_postgres  # noqa: E402  (reports_bench imports these from here)

TARGET_LINKS_PER_S = 100_000
SITE = "northwind-outdoor.com"  # audit.synthetic.SiteProfile's domain


def stack_config(port: int) -> Any:
    return common.stack_config(port, "audit")


def export_file(rows: int, seed: int) -> Path:
    """The cached synthetic export (the same file bench-import uses); generated on first use."""
    from import_bench import export_file as cached_export

    return cached_export(rows, seed)


def ensure_dataset(rows: int, seed: int) -> Any:
    """The site with its imported links, loaded once per parameters (kept in a bench-only table)."""
    from django.db import connection

    from audit.models import Site
    from audit.synthetic import GENERATOR_VERSION

    key = f"v{GENERATOR_VERSION} rows={rows} seed={seed}"
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_audit_dataset (key text NOT NULL)")
        cursor.execute("SELECT key FROM bench_audit_dataset")
        if cursor.fetchone() == (key,):
            log(f"dataset: reusing {key}")
            return Site.objects.get(domain=SITE)
        cursor.execute("TRUNCATE audit_site CASCADE")
        cursor.execute("DELETE FROM bench_audit_dataset")
    site = load_dataset(export_file(rows, seed))
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_audit_dataset (key) VALUES (%s)", [key])
    return site


def load_dataset(path: Path) -> Any:
    from django.core.files import File

    from audit.services import link_import_run, link_import_store, site_get_or_create, site_update_terms
    from audit.synthetic import SiteProfile

    profile = SiteProfile()
    site = site_get_or_create(domain_or_url=profile.domain)
    site_update_terms(site_pk=site.pk, brand_terms=[profile.brand], money_terms=list(profile.money_terms))
    started = time.monotonic()
    with path.open("rb") as handle:
        link_import = link_import_store(site=site, uploaded_file=File(handle, name=path.name), created_by=None)
    link_import = link_import_run(import_id=link_import.id)
    if link_import.status != "succeeded":
        raise SystemExit(f"the import failed: {link_import.error}")
    log(f"imported {link_import.rows_imported:,} links in {time.monotonic() - started:.0f} s")
    site.refresh_from_db()
    return site


def measure(site: Any, runs: int) -> None:
    from audit.audit_selectors import audit_summary
    from audit.models import Backlink
    from audit.toxicity import toxicity_score_site

    links = Backlink.objects.filter(site=site).count()
    toxicity_score_site(site=site)  # warm-up: caches, first-time inserts
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        result = toxicity_score_site(site=site)
        seconds.append(time.perf_counter() - started)
    if result.links != links:
        raise SystemExit(f"scored {result.links:,} links of {links:,}")
    bands = audit_summary(site).links
    median = statistics.median(seconds)
    rate = links / median
    log(f"scored {links:,} links and {result.domains:,} referring domains; bands {bands}")
    log(f"runs: {', '.join(f'{s:.2f} s' for s in seconds)}; median {median:.2f} s")
    verdict = "ok" if rate >= TARGET_LINKS_PER_S else "UNDER"
    log(f"target >= {TARGET_LINKS_PER_S:,} links/s: {rate:,.0f} links/s {verdict}")
    log(f"RESULT audit links_per_s={rate:.0f}")


def bench(args: argparse.Namespace) -> None:
    config = stack_config(args.port)
    from linkcrm.localstack import postgres

    try:
        start_postgres(config, args.fresh)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linkcrm.settings")
        import django

        django.setup()
        site = ensure_dataset(args.rows, args.seed)
        psql(config, "VACUUM (ANALYZE) audit_backlink, audit_refdomain")
        measure(site, args.runs)
    finally:
        if not args.keep:
            postgres.down(config)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--port", type=int, default=int(os.environ.get("LINKCRM_BENCH_AUDIT_PG_PORT", "55488")))
    parser.add_argument("--fresh", action="store_true", help="rebuild the dataset")
    parser.add_argument("--keep", action="store_true", help="leave the bench PostgreSQL running")
    bench(parser.parse_args(argv))


if __name__ == "__main__":
    main(sys.argv[1:])
