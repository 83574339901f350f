"""``make bench-import``: how fast a million-row Semrush Backlinks export imports, end to end.

What it does, all on this machine and without the internet:
1. generates (once; cached in bench/out/, gitignored) a seeded 1,000,000-row synthetic
   Semrush Backlinks CSV (audit.synthetic);
2. starts its own PostgreSQL (the local stack's test profile: fsync, synchronous_commit
   and full_page_writes OFF, plus a larger shared_buffers/max_wal_size), on its own port
   and data directory, with a fresh database;
3. imports the file in a child process exactly as the product does (link_import_store +
   link_import_run: detect, parse, COPY, merge, referring-domain aggregates) and times it;
   the child reports its peak RSS (VmHWM), so generating the file does not count;
4. in the same run, times psql's ``\\copy`` of the same file into an UNLOGGED table of 19
   text columns: the floor any import could reach;
5. re-imports the same file (must change nothing: every row keeps its xmin);
6. imports a 300,000-row file into another site to show memory is flat in file size (its
   caches and chunk queue are already full: a bigger file adds nothing);
7. measures the floor: the imported rows COPYed into a fresh logged table with the same
   indexes built after (no parsing, merging or counting), and the parser's CPU time alone;
   together they bound what any import could reach on this machine's two cores;
8. prints, under each import, the loader's seconds per phase (audit.loading logs them at
   DEBUG): where the time went, with the chunk phases running beside the parsing;
9. prints the load average: the machine is shared, and every figure moves with it;
10. stops PostgreSQL. The last line is machine-readable:
   ``RESULT import rows_per_s=<n> ratio_vs_copy=<x> reimport_rows_per_s=<n> peak_mb=<n>``

Options: ``--rows N`` (default 1,000,000), ``--seed S``, ``--port P`` (default 55472, or
LINKCRM_BENCH_PG_PORT), ``--keep`` (leave PostgreSQL running). LINKCRM_BENCH_DATA_DIR moves
the bench cluster's data directory (default bench/out/stack), e.g. to run two benches at once.
"""

# ruff: noqa: S608 - bench-only SQL with fixed names and the bench's own site domains
from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import common  # noqa: E402
from common import PG_TUNING, log, psql  # noqa: E402


def export_file(rows: int, seed: int) -> Path:
    """The cached synthetic export; generated on first use."""
    from audit.synthetic import GENERATOR_VERSION, write_semrush_backlinks

    path = OUT / f"semrush-backlinks-{rows}-seed{seed}-v{GENERATOR_VERSION}.csv"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        partial = path.with_suffix(".partial")
        with partial.open("w", newline="", encoding="utf-8") as out:
            write_semrush_backlinks(out, rows=rows, seed=seed)
        partial.rename(path)
        log(
            f"generated {path.name} ({path.stat().st_size / 1e6:.0f} MB)"
            f" in {time.monotonic() - started:.1f} s"
        )
    return path


# --- the stack ---------------------------------------------------------------------------


def stack_config(port: int):
    os.environ.update(
        {"LINKCRM_STACK": "test", "LINKCRM_DATA_DIR": os.environ.get("LINKCRM_BENCH_DATA_DIR", str(OUT / "stack")),
         "LINKCRM_PG_PORT": str(port)}
    )
    os.environ.pop("DATABASE_URL", None)
    from linkcrm.localstack.config import StackConfig

    return StackConfig.from_env()


def start_postgres(config) -> None:
    """Up with the test profile, tuned, with an empty 'linkcrm' database migrated."""
    common.start_postgres(config, True, environ=django_environ(config), migrate_args=("--skip-checks",))


def server_facts(config) -> str:
    names = ("fsync", "synchronous_commit", "full_page_writes", *PG_TUNING)
    return ", ".join(f"{name}={psql(config, f'SHOW {name}')}" for name in names)


# --- measurements ------------------------------------------------------------------------


def django_environ(config) -> dict[str, str]:
    """A production-like Django environment (DEBUG off) with throw-away secrets."""
    return {
        **config.child_environ(), "SECRET_KEY": "bench-only", "MEDIA_ROOT": str(OUT / "media"),
        "LINKCRM_ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(), "DEBUG": "false",
    }  # fmt: skip


def run_import(config, path: Path, site: str) -> dict:
    """One import in a fresh child process (so its peak RSS is the import's own)."""
    argv = [sys.executable, __file__, "--child", str(path), site]
    child = subprocess.run(
        argv, env=django_environ(config), cwd=ROOT, capture_output=True, text=True, check=False
    )
    if child.returncode != 0:
        raise SystemExit(f"the import process failed:\n{child.stderr[-3000:]}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def child_import(path: Path, site_domain: str) -> None:
    """In the child: store and run one import; print its numbers as JSON."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linkcrm.settings")
    import django

    django.setup()
    import logging

    from django.core.files import File

    phases: list[str] = []  # the loader's seconds per phase (logged at DEBUG)
    handler = logging.Handler()
    handler.emit = lambda record: phases.append(record.getMessage())  # type: ignore[method-assign]
    loader_log = logging.getLogger("audit.loading")
    loader_log.setLevel(logging.DEBUG)
    loader_log.addHandler(handler)

    from audit.services import link_import_run, link_import_store, site_get_or_create

    site = site_get_or_create(domain_or_url=site_domain)
    started = time.monotonic()
    with path.open("rb") as handle:
        link_import = link_import_store(
            site=site, uploaded_file=File(handle, name=path.name), created_by=None
        )
    stored = time.monotonic()
    link_import = link_import_run(import_id=link_import.id)
    done = time.monotonic()
    link_import.file.delete(save=False)  # the stored upload copy: runs would otherwise pile up GBs
    print(json.dumps({
        "status": link_import.status, "error": link_import.error, "format": link_import.format,
        "rows_read": link_import.rows_read, "rows_imported": link_import.rows_imported,
        "rows_new": link_import.rows_new, "rows_lost": link_import.rows_lost,
        "rows_skipped": link_import.rows_skipped, "store_s": stored - started, "run_s": done - stored,
        "peak_kb": _peak_rss_kb(), "phases": [m for m in phases if "per phase" in m],
    }))  # fmt: skip


def _peak_rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def raw_copy_seconds(config, path: Path) -> float:
    """psql \\copy of the same CSV into an UNLOGGED table of 19 text columns."""
    columns = ", ".join(f"c{n} text" for n in range(19))
    psql(config, f"DROP TABLE IF EXISTS bench_raw_copy; CREATE UNLOGGED TABLE bench_raw_copy ({columns})")
    started = time.monotonic()
    psql(config, f"\\copy bench_raw_copy FROM '{path}' WITH (FORMAT csv, HEADER true)")
    seconds = time.monotonic() - started
    psql(config, "DROP TABLE bench_raw_copy")
    return seconds


def floor_seconds(config, site: str) -> tuple[float, float, int]:
    """(write s, index s, indexes): the least any import of the site's rows must do.

    The rows the import left, COPYed by psql into a fresh *logged* table shaped like
    audit_backlink (data a user keeps must survive a crash), then that table's copies of
    audit_backlink's indexes built in bulk: no parsing, de-duplication, merging or
    referring-domain counts, and index builds cheaper than keeping indexes up to date.
    """
    dump = OUT / "floor-rows.copy"
    psql(config, f"\\copy (SELECT b.* FROM audit_backlink b JOIN audit_site s ON s.id = b.site_id"
                 f" WHERE s.domain = '{site}') TO '{dump}'")  # fmt: skip
    psql(config, "DROP TABLE IF EXISTS bench_floor; CREATE TABLE bench_floor (LIKE audit_backlink INCLUDING DEFAULTS)")
    try:
        started = time.monotonic()
        psql(config, f"\\copy bench_floor FROM '{dump}'")
        write_s = time.monotonic() - started
        definitions = psql(config, "SELECT indexdef FROM pg_indexes WHERE tablename = 'audit_backlink'").splitlines()
        started = time.monotonic()
        for definition in definitions:  # "CREATE [UNIQUE] INDEX name ON public.audit_backlink USING ..."
            head, _, rest = definition.partition(" ON public.audit_backlink ")
            psql(config, f"{head.rsplit(' ', 1)[0]} ON bench_floor {rest}")
        return write_s, time.monotonic() - started, len(definitions)
    finally:
        psql(config, "DROP TABLE bench_floor")
        dump.unlink(missing_ok=True)


def parse_cpu_seconds(path: Path) -> float:
    """CPU seconds of the product's parser alone over the file (a child process; no database)."""
    argv = [sys.executable, __file__, "--parse", str(path)]
    child = subprocess.run(argv, env={**os.environ, "DJANGO_SETTINGS_MODULE": "linkcrm.settings", "DEBUG": "true"},
                           cwd=ROOT, capture_output=True, text=True, check=True)  # fmt: skip
    return float(child.stdout.strip().splitlines()[-1])


def child_parse(path: Path) -> None:
    """In the child: run the Semrush converter over every row, as an import does; print CPU seconds."""
    import django

    django.setup()
    from audit.choices import ImportFormat
    from audit.importers import detect
    from audit.importers.reader import open_export

    started = time.process_time()
    with path.open("rb") as stream, open_export(stream, max_bytes=path.stat().st_size * 2) as reader:
        converter = detect.importer_for(ImportFormat.SEMRUSH_BACKLINKS).load_converter(
            reader.header, None, default_target_url="https://example.com/"
        )
        for _row in detect.iter_normalised(reader, converter):
            pass
    print(time.process_time() - started)


def fingerprint(config, site: str) -> str:
    """Every backlink and referring domain of the site with its row version (xmin)."""
    return psql(
        config,
        f"""SELECT md5(string_agg(x, ',' ORDER BY x)) FROM (
              SELECT b.id::text || ':' || b.xmin::text AS x FROM audit_backlink b JOIN audit_site s
                ON s.id = b.site_id WHERE s.domain = '{site}'
              UNION ALL SELECT 'r' || r.id::text || ':' || r.xmin::text FROM audit_refdomain r
                JOIN audit_site s ON s.id = r.site_id WHERE s.domain = '{site}') t""",
    )


def describe(label: str, result: dict, rows: int) -> float:
    if result["status"] != "succeeded":
        raise SystemExit(f"{label} failed: {result['error']}")
    rate = rows / result["run_s"]
    log(
        f"{label:<22} {result['run_s']:7.2f} s  {rate:>9,.0f} rows/s  (store {result['store_s']:.2f} s; read "
        f"{result['rows_read']:,}, imported {result['rows_imported']:,}, new {result['rows_new']:,}, "
        f"lost {result['rows_lost']:,}, skipped {result['rows_skipped']:,}; "
        f"peak RSS {result['peak_kb'] / 1024:.0f} MB)"
    )
    for message in result.get("phases", []):
        log(f"    {message}")
    return rate


def bench(rows: int, seed: int, port: int, keep: bool) -> None:
    path = export_file(rows, seed)
    # Big enough to fill every bounded cache and the chunk pipeline: its peak is the plateau.
    small_rows = min(300_000, rows)
    small = export_file(small_rows, seed + 1)
    config = stack_config(port)
    from linkcrm.localstack import postgres

    try:
        start_postgres(config)
        log(f"PostgreSQL on 127.0.0.1:{config.pg_port} (bench only): {server_facts(config)}")
        log(f"file: {path.name}, {rows:,} rows, {path.stat().st_size / 1e6:.0f} MB")
        site = "northwind-outdoor.com"
        first = run_import(config, path, site)
        rate = describe("import", first, rows)
        psql(config, "VACUUM (ANALYZE) audit_backlink, audit_refdomain")  # what autovacuum does next
        copy_s = raw_copy_seconds(config, path)
        label = "psql \\copy (raw)"
        log(f"{label:<22} {copy_s:7.2f} s  {rows / copy_s:>9,.0f} rows/s")
        before = fingerprint(config, site)
        again = run_import(config, path, site)
        rerate = describe("re-import", again, rows)
        unchanged = fingerprint(config, site) == before and again["rows_new"] == 0 and again["rows_lost"] == 0
        log(f"re-import changed nothing (same rows, same xmin): {'yes' if unchanged else 'NO'}")
        flat = run_import(config, small, "trailcraft-gear.com")
        describe(f"import {small_rows // 1000}k (memory)", flat, small_rows)
        write_s, index_s, indexes = floor_seconds(config, site)
        floor_s = write_s + index_s
        log(f"floor: the imported rows into a fresh logged table {write_s:.2f} s, its {indexes} indexes built "
            f"after {index_s:.2f} s: {floor_s:.2f} s = {floor_s / copy_s:.2f}x raw COPY, before any parsing")
        parse_s = parse_cpu_seconds(path)
        log(f"parser alone (no database): {parse_s:.2f} s CPU; parser + floor on 2 cores, perfectly shared: "
            f">= {(parse_s + floor_s) / 2:.2f} s = {(parse_s + floor_s) / 2 / copy_s:.2f}x raw COPY")
        ratio = first["run_s"] / copy_s
        peak_mb = first["peak_kb"] / 1024
        log(f"ratio to raw COPY: {ratio:.2f}; peak RSS {peak_mb:.0f} MB for {rows:,} rows vs "
            f"{flat['peak_kb'] / 1024:.0f} MB for {small_rows:,} "
            "(caches and the chunk queue are bounded)")  # fmt: skip
        log("note: the bench server runs with fsync=off, synchronous_commit=off, full_page_writes=off")
        log("load average (1, 5, 15 min; other work on this machine skews every figure): "
            + ", ".join(f"{value:.1f}" for value in os.getloadavg()))  # fmt: skip
        if not unchanged:
            raise SystemExit("re-import wrote rows: it must change nothing")
        log(f"RESULT import rows_per_s={rate:.0f} ratio_vs_copy={ratio:.2f} "
            f"reimport_rows_per_s={rerate:.0f} peak_mb={peak_mb:.0f}")  # fmt: skip
    finally:
        if not keep:
            postgres.down(config)


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        child_import(Path(argv[1]), argv[2])
        return
    if argv[:1] == ["--parse"]:
        child_parse(Path(argv[1]))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=int(os.environ.get("LINKCRM_BENCH_PG_PORT", "55472")))
    parser.add_argument("--keep", action="store_true", help="leave the bench PostgreSQL running")
    args = parser.parse_args(argv)
    bench(args.rows, args.seed, args.port, args.keep)


if __name__ == "__main__":
    main(sys.argv[1:])
