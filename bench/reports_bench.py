"""``make bench-reports``: how long each report page's queries take on a big workspace.

What it does, all on this machine and without the internet:
1. starts its own PostgreSQL (the local stack's test profile) on its own port and data directory
   (bench/out/reports-stack, gitignored) and migrates it;
2. seeds, once (``--fresh`` rebuilds), 100,000 prospects over 5 projects and 10 outreach users,
   1,000,000 stage changes (10 per prospect, spread over two years), 100,000 enrollments,
   1,000,000 outbound messages (10 per enrollment, 2% failed), ~30,000 inbound replies,
   auto-replies and bounces (half tied to their message by headers, half by thread only) and
   the acquired links of Link Acquired prospects (a fifth of them lost), and the first
   project's site and two competitors with 100,000 dated referring domains each — all with
   ``INSERT … SELECT … generate_series`` in the database, then VACUUM ANALYZE;
3. times every report page's queries (``outreach.reports.tables.report_data``: funnel, median
   time in stage, rates with every breakdown, velocity/authority/losses, referring domains,
   stale prospects) for: a manager over all projects and one project, the last 90 and 365
   days; an outreach user's own numbers; and the weekly digest — after bringing the report
   roll-ups up to date (``outreach.reports.facts``, what the scheduled ``reports-facts`` task
   does; its time is logged, not counted). A page runs its independent statements at once on
   several connections (``LINKCRM_REPORT_CONNECTIONS``), as a page view does. ``--runs`` times
   each after one warm-up; the median counts;
4. stops PostgreSQL. The last line is machine-readable: ``RESULT reports max_ms=<n>`` (the
   slowest page's median). Target: every page under 1,000 ms.

Options: ``--prospects N`` (default 100,000; stage changes and messages are 10 × N),
``--runs N`` (default 3), ``--port P`` (default 55486, or LINKCRM_BENCH_REPORTS_PG_PORT),
``--fresh``, ``--keep``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from audit_bench import log, psql, stack_config, start_postgres  # noqa: E402

TARGET_MS = 1000
STAFF = 10
PROJECTS = 5
ORDERED = ["in_progress", "to_contact", "contacted", "reply_received", "link_acquired"]


def _insert(model: Any, columns: dict[str, str], source: str, params: dict[str, Any]) -> int:
    """INSERT INTO model's table (given columns + every other NOT NULL column at its Django default) SELECT …

    ``columns`` maps column names to SQL expressions over ``source``; the remaining required
    columns get their model default as a bound parameter, so the seed follows model changes.
    """
    from django.db import connection

    names, exprs, values = [], [], dict(params)
    for field in model._meta.concrete_fields:
        if field.primary_key and field.column not in columns:
            continue
        if field.column in columns:
            names.append(field.column)
            exprs.append(columns[field.column])
        elif not field.null:
            default = field.get_default()
            if default is None:
                raise SystemExit(f"{model.__name__}.{field.name}: no value and no default")
            values[f"d_{field.column}"] = field.get_db_prep_save(default, connection)
            names.append(field.column)
            exprs.append(f"%(d_{field.column})s")
    quoted = ", ".join(connection.ops.quote_name(name) for name in names)  # "references" is a keyword
    sql = f"INSERT INTO {model._meta.db_table} ({quoted}) SELECT {', '.join(exprs)} {source}"
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return cursor.rowcount


def seed_people() -> dict[str, Any]:
    """Users, projects, templates with versions, sequences, mailboxes: the small tables, through the ORM."""
    from linkcrm.choices import Role
    from linkcrm.services import user_create
    from outreach.models import EmailTemplate, Mailbox, Sequence, SequenceStep, TemplateVersion
    from prospects.models import Project

    staff = [user_create(username=f"staff{n}", role=Role.OUTREACH, email=f"staff{n}@bench.test")[0]
             for n in range(STAFF)]  # fmt: skip
    manager = user_create(username="boss", role=Role.MANAGER, email="boss@bench.test")[0]
    projects = [Project.objects.create(name=f"Project {n}") for n in range(PROJECTS)]
    versions, sequences = [], []
    for n in range(5):
        template = EmailTemplate.objects.create(name=f"Template {n}", subject="Hi", text="Hello", version=2)
        versions += [TemplateVersion.objects.create(template=template, number=v, subject="Hi", text=f"Hello {v}")
                     for v in (1, 2)]  # fmt: skip
        sequence = Sequence.objects.create(name=f"Sequence {n}")
        sequences.append(sequence)
        for position in range(1, 4):
            SequenceStep.objects.create(sequence=sequence, position=position, template=template)
    boxes = [Mailbox.objects.create(owner=user, name=f"Box {n}", email=f"box{n}@bench.test", smtp_host="127.0.0.1")
             for n, user in enumerate(staff)]  # fmt: skip
    return {
        "staff": [u.pk for u in staff], "manager": manager.pk, "projects": [p.pk for p in projects],
        "versions": [v.pk for v in versions], "sequences": [s.pk for s in sequences], "boxes": [b.pk for b in boxes],
    }  # fmt: skip


def seed_pipeline(n: int, ids: dict[str, Any]) -> None:
    """Prospects, contacts and the stage log (10 changes a prospect, two years back)."""
    from prospects.models import Contact, Prospect, StageChange

    params = {**ids, "stages": ORDERED + ["rejected"], "ordered": ORDERED, "n": n}
    count = _insert(Prospect, {
        "project_id": "(%(projects)s::bigint[])[1 + g %% 5]", "domain": "'p' || g || '.example'",
        "pipeline": "CASE WHEN g %% 20 = 0 THEN 'removal' ELSE 'acquisition' END",
        "stage": "(%(stages)s::text[])[1 + g %% 6]", "assignee_id": "(%(staff)s::int[])[1 + g %% 10]",
        "authority": "g %% 100", "score": "g %% 100", "source": "'gap'",
        "stage_changed_at": "now() - (g %% 730) * interval '1 day'",
        "created_at": "now() - (g %% 730 + 20) * interval '1 day'", "updated_at": "now()",
    }, "FROM generate_series(1, %(n)s) g", params)  # fmt: skip
    log(f"  {count:,} prospects")
    _insert(Contact, {"prospect_id": "p.id", "email": "'editor@' || p.domain", "created_at": "now()"},
            "FROM prospects_prospect p", {})  # fmt: skip
    count = _insert(StageChange, {
        "prospect_id": "p.id",
        "from_stage": "CASE WHEN k = 0 THEN '' ELSE (%(ordered)s::text[])[1 + (k - 1) %% 5] END",
        "to_stage": "CASE WHEN k %% 5 = 4 AND p.id %% 3 <> 0 THEN 'rejected' "
                    "ELSE (%(ordered)s::text[])[1 + k %% 5] END",
        "actor_kind": "'automation'", "automation": "'bench'",
        "created_at": f"LEAST({_latest('p.id')}, p.created_at + k * (1 + p.id %% 7) * interval '1 day' "
                      "+ (p.id %% 86400) * interval '1 second')",
    }, "FROM prospects_prospect p CROSS JOIN generate_series(0, 9) k", params)  # fmt: skip
    log(f"  {count:,} stage changes")


def _latest(prospect: str) -> str:
    """SQL for the latest moment a seeded row of ``prospect`` may have: history that would fall in
    the future is spread over the day before the seed, ending an hour before it. Capped at
    now() instead, thousands of rows would share the seed's instant, and for the roll-ups'
    settling time every report would compute them live: no team makes that many moves at once.
    """
    return f"now() - interval '1 hour' - ({prospect} %% 82800) * interval '1 second'"


def seed_outreach(ids: dict[str, Any]) -> None:
    """Enrollments, 10 messages each, replies/auto-replies/bounces, acquired links."""
    from outreach.models import Enrollment, InboundMessage, OutboundMessage
    from prospects.models import AcquiredLink

    _insert(Enrollment, {
        "sequence_id": "(%(sequences)s::bigint[])[1 + p.id %% 5]", "prospect_id": "p.id", "contact_id": "c.id",
        "mailbox_id": "(%(boxes)s::bigint[])[1 + p.id %% 10]", "domain": "p.domain", "status": "'completed'",
        "current_step": "10", "thread_token": "substr(md5(p.id::text), 1, 24)",
        "enrolled_by_id": "(%(staff)s::int[])[1 + p.id %% 10]", "enrolled_at": "p.created_at",
    }, "FROM prospects_prospect p JOIN prospects_contact c ON c.prospect_id = p.id", ids)  # fmt: skip
    count = _insert(OutboundMessage, {
        "mailbox_id": "e.mailbox_id", "enrollment_id": "e.id", "step_position": "k",
        "template_version_id": "(%(versions)s::bigint[])[1 + (e.id + k) %% 10]", "prospect_id": "e.prospect_id",
        "contact_id": "e.contact_id", "from_address": "'box@bench.test'", "to_address": "'editor@' || e.domain",
        "subject": "'Hi'", "text": "'Hello'", "message_id": "'<' || e.id || '.' || k || '@bench.test>'",
        "status": "CASE WHEN (e.id + k) %% 50 = 0 THEN 'failed' ELSE 'sent' END",
        "due_at": f"LEAST({_latest('e.prospect_id')}, e.enrolled_at + k * interval '3 days')",
        "sent_at": "CASE WHEN (e.id + k) %% 50 = 0 THEN NULL "
                   f"ELSE LEAST({_latest('e.prospect_id')}, e.enrolled_at + k * interval '3 days') END",
        "created_at": "e.enrolled_at",
    }, "FROM outreach_enrollment e CROSS JOIN generate_series(1, 10) k", ids)  # fmt: skip
    log(f"  {count:,} outbound messages")
    # Keyed on prospect_id / 10 so replies spread evenly over projects (id %% 5) and people (id %% 10).
    kind = ("CASE WHEN (m.prospect_id / 10) %% 23 = 0 THEN 'bounce' "
            "WHEN (m.prospect_id / 10) %% 11 = 0 THEN 'auto_reply' ELSE 'reply' END")  # fmt: skip
    count = _insert(InboundMessage, {
        "mailbox_id": "m.mailbox_id", "folder": "'INBOX'", "uidvalidity": "1", "uid": "m.id",
        "dedupe_key": "'<in.' || m.id || '@bench.test>'", "kind": kind, "permanent": "(m.prospect_id / 10) %% 23 = 0",
        "matched_message_id": "CASE WHEN m.id %% 2 = 0 THEN m.id END", "enrollment_id": "m.enrollment_id",
        "prospect_id": "m.prospect_id",
        "received_at": f"LEAST({_latest('m.prospect_id')}, m.sent_at + interval '1 day')",
        "match_method": "CASE WHEN m.id %% 2 = 0 THEN 'in_reply_to' ELSE 'token' END",
    }, "FROM outreach_outboundmessage m WHERE m.status = 'sent' AND m.step_position = 1 + m.prospect_id %% 3 "
       "AND ((m.prospect_id / 10) %% 5 = 0 OR (m.prospect_id / 10) %% 23 = 0 OR (m.prospect_id / 10) %% 11 = 0)",
       {})  # fmt: skip
    log(f"  {count:,} inbound messages")
    _insert(AcquiredLink, {
        "prospect_id": "p.id", "page_url": "'https://' || p.domain || '/links'", "host": "p.domain",
        "status": "CASE WHEN p.id %% 5 = 0 THEN 'lost' ELSE 'active' END",
        "loss_confirmed_at": "CASE WHEN p.id %% 5 = 0 THEN p.stage_changed_at + interval '30 days' END",
        "next_check_at": "now()", "created_at": "p.stage_changed_at",
    }, "FROM prospects_prospect p WHERE p.stage = 'link_acquired'", {})  # fmt: skip


def seed_sites(ids: dict[str, Any]) -> None:
    """The first project's site and two competitors, 100,000 referring domains each over two years."""
    from audit.models import RefDomain, Site
    from prospects.models import Project, ProjectCompetitor

    sites = [Site.objects.create(domain=f"site{n}.example") for n in range(3)]
    project = Project.objects.get(pk=ids["projects"][0])
    project.site = sites[0]
    project.save(update_fields=["site"])
    for site in sites[1:]:
        ProjectCompetitor.objects.create(project=project, site=site)
    for n, site in enumerate(sites):
        _insert(RefDomain, {
            "site_id": "%(site)s", "domain": "'r' || g || '.example'", "tld": "'example'",
            "first_seen": "current_date - (g %% 730)", "lost_at": "CASE WHEN g %% (7 + %(n)s) = 0 "
            "THEN current_date - (g %% 700) + 20 END",
        }, "FROM generate_series(1, 100000) g", {"site": site.pk, "n": n})  # fmt: skip


def ensure_dataset(config: Any, n: int) -> None:
    """Seed once per size (a bench-only table remembers it)."""
    from django.db import connection, transaction

    key = f"v3 prospects={n}"
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_reports_dataset (key text NOT NULL)")
        cursor.execute("SELECT key FROM bench_reports_dataset")
        if cursor.fetchone() == (key,):
            log(f"dataset: reusing {key}")
            return
    psql(config, "DROP DATABASE IF EXISTS linkcrm WITH (FORCE)", database="postgres")
    psql(config, "CREATE DATABASE linkcrm", database="postgres")
    connection.close()
    start_postgres(config, False)
    started = time.monotonic()
    log(f"dataset: seeding {key}")
    with transaction.atomic():
        ids = seed_people()
        seed_pipeline(n, ids)
        seed_outreach(ids)
        seed_sites(ids)
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE IF NOT EXISTS bench_reports_dataset (key text NOT NULL)")
            cursor.execute("INSERT INTO bench_reports_dataset (key) VALUES (%s)", [key])
    log(f"seeded in {time.monotonic() - started:.0f} s")
    psql(config, "VACUUM (ANALYZE)")


def refresh_rollups(config: Any) -> None:
    """Bring the report roll-ups up to date, as the scheduled ``reports-facts`` task does (timed, not counted)."""
    from django.utils import timezone

    from outreach.reports.facts import facts_refresh

    started = time.monotonic()
    done = facts_refresh(timezone.now())
    rows = sum(r.rows for r in done)
    log(f"roll-ups brought up to date before timing, as the scheduled reports-facts task does every 10 minutes"
        f" (not counted): {', '.join(f'{r.name} {r.prospects:,} prospects {r.rows:,} rows' for r in done)}"
        f" in {time.monotonic() - started:.1f} s")  # fmt: skip
    if rows:
        psql(config, "VACUUM (ANALYZE) outreach_sentfact, outreach_stagefact")


def pages() -> list[tuple[str, Callable[[], Any]]]:
    """Every report page the bench times, as (name, a call running all of that page's queries)."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from outreach.reports.digest import digest_text
    from outreach.reports.selectors import ReportFilter
    from outreach.reports.tables import report_data
    from prospects.models import Project

    now = timezone.now()
    today = timezone.localdate()
    project = Project.objects.order_by("pk").first()
    staff = get_user_model().objects.get(username="staff3")

    def page(days: int, project: Project | None = None, user_id: int | None = None) -> Callable[[], Any]:
        # A new filter per call, as each page view builds one (it caches the user's own prospects).
        def run() -> Any:
            report = ReportFilter(start=today - timedelta(days=days - 1), end=today,
                                  project_id=project.pk if project else None, user_id=user_id)  # fmt: skip
            return report_data(report, project, now)

        return run

    return [
        ("manager, all projects, 90 days", page(90)),
        ("manager, one project, 90 days", page(90, project)),
        ("manager, all projects, 365 days", page(365)),
        ("outreach user's own, 90 days", page(90, None, staff.pk)),
        ("outreach user's own, 365 days", page(365, None, staff.pk)),
        ("weekly digest", lambda: digest_text(now)),
    ]


def measure(runs: int) -> list[tuple[str, float]]:
    """Median milliseconds of each page over ``runs`` runs after a warm-up."""
    from django.conf import settings

    log(
        f"each page's independent statements run at once on up to {settings.LINKCRM_REPORT_CONNECTIONS}"
        " connections (LINKCRM_REPORT_CONNECTIONS), as a page view does; nothing is kept between runs"
    )
    results = []
    for name, call in pages():
        data = call()
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            call()
            timings.append((time.perf_counter() - started) * 1000)
        median = statistics.median(timings)
        results.append((name, median))
        figures = ""
        if hasattr(data, "rates"):
            total = data.rates.total
            figures = (f" (contacted {total.contacted:,}, replied {total.replied:,}, "
                       f"acquired {data.acquisition.acquired:,})")
        log(f"  {name:34} {median:8.0f} ms  runs {', '.join(f'{t:.0f}' for t in timings)}{figures}")
    return results


def reports_stack(port: int) -> Any:
    """The bench environment audit_bench sets up (test profile, throw-away keys), in our own directory."""
    stack_config(port)
    os.environ["LINKCRM_DATA_DIR"] = str(OUT / "reports-stack")
    from linkcrm.localstack.config import StackConfig

    return StackConfig.from_env()


def bench(args: argparse.Namespace) -> None:
    config = reports_stack(args.port)
    from linkcrm.localstack import postgres

    try:
        start_postgres(config, args.fresh)
        os.environ.update(config.child_environ())
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linkcrm.settings")
        import django

        django.setup()
        ensure_dataset(config, args.prospects)
        refresh_rollups(config)
        results = measure(args.runs)
        slowest = max(ms for _, ms in results)
        verdict = "ok" if slowest < TARGET_MS else "OVER"
        log(f"target < {TARGET_MS} ms a page: slowest {slowest:.0f} ms {verdict}")
        log(f"RESULT reports max_ms={slowest:.0f}")
    finally:
        if not args.keep:
            postgres.down(config)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prospects", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--port", type=int, default=int(os.environ.get("LINKCRM_BENCH_REPORTS_PG_PORT", "55486")))
    parser.add_argument("--fresh", action="store_true", help="rebuild the dataset")
    parser.add_argument("--keep", action="store_true", help="leave the bench PostgreSQL running")
    bench(parser.parse_args(argv))


if __name__ == "__main__":
    main(sys.argv[1:])
