"""A report page's independent statements run at once, each on its own database connection.

Why: a page's figures come from a handful of statements that share nothing (the funnel, the
rates, the acquisitions, the stale prospects, …), each working through a whole period's rows.
One connection runs them one after another on one CPU core; on separate connections PostgreSQL
runs them side by side. Every statement already ran in its own transaction (``_fetch``), so
reading them from several connections changes no figure.

Not inside a transaction: the other connections would not see its uncommitted rows (a caller's
writes, a test's world), so there the statements run one after another on this connection.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from django.conf import settings
from django.db import connection, connections

T = TypeVar("T")


def run_together(calls: Mapping[str, Callable[[], T]]) -> dict[str, T]:
    """Each call's result by name, the calls run at once on up to LINKCRM_REPORT_CONNECTIONS connections.

    The first call runs here, on this thread's connection; the others on worker threads, each
    with a connection of its own, closed when its call returns. One after another on this
    connection when the setting is 1 or this connection is inside a transaction. A call's
    exception is raised here (after the others finished).
    """
    connections_at_once = min(settings.LINKCRM_REPORT_CONNECTIONS, len(calls))
    if connections_at_once <= 1 or connection.in_atomic_block:
        return {name: call() for name, call in calls.items()}
    (first, first_call), *others = calls.items()
    with ThreadPoolExecutor(max_workers=connections_at_once - 1, thread_name_prefix="report") as pool:
        futures = {name: pool.submit(_on_own_connection, call) for name, call in others}
        results = {first: first_call()}
        results.update((name, future.result()) for name, future in futures.items())
    return {name: results[name] for name in calls}


def _on_own_connection(call: Callable[[], T]) -> T:
    """Run ``call`` in a worker thread (its own connection, opened on first use) and close that connection."""
    try:
        return call()
    finally:
        connections.close_all()
