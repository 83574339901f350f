"""A reports page's statements run at once on their own connections, with the figures unchanged.

These tests commit their worlds (``transaction=True``): the statements' other connections can
only see committed rows.
"""
# ruff: noqa: F811 - the worlds are the formula tests' fixtures, requested by name

from __future__ import annotations

from dataclasses import astuple

import pytest
from django.db import connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from outreach.reports.concurrent import run_together
from outreach.reports.selectors import ReportFilter
from outreach.reports.tables import report_data
from tests.outreach import reports_world as w
from tests.outreach.test_reports_formulas import MARCH, funnel_world, rates_world  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db(transaction=True)


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def pid_and_connection() -> tuple[int, BaseDatabaseWrapper]:
    return backend_pid(), connections["default"]


def test_calls_run_on_their_own_connections_and_close_them(settings):
    settings.LINKCRM_REPORT_CONNECTIONS = 3
    here = backend_pid()
    used = run_together({"a": pid_and_connection, "b": pid_and_connection, "c": pid_and_connection})
    assert list(used) == ["a", "b", "c"] and used["a"][0] == here  # the first runs on this connection
    workers = {pid for pid, _ in (used["b"], used["c"])}
    assert here not in workers and len(workers) == 2
    assert all(wrapper.connection is None for _, wrapper in (used["b"], used["c"]))  # each worker closed its own
    assert connection.connection is not None  # this thread's stays open for its next query


def test_inside_a_transaction_or_with_one_connection_calls_run_here(settings):
    settings.LINKCRM_REPORT_CONNECTIONS = 3
    here = backend_pid()
    with transaction.atomic():  # other connections could not see this transaction's rows
        assert set(run_together({"a": backend_pid, "b": backend_pid}).values()) == {here}
    settings.LINKCRM_REPORT_CONNECTIONS = 1
    assert set(run_together({"a": backend_pid, "b": backend_pid}).values()) == {here}


def test_a_failing_call_raises(settings):
    settings.LINKCRM_REPORT_CONNECTIONS = 2

    def fails() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        run_together({"ok": backend_pid, "fails": fails})


def page(report: ReportFilter) -> tuple[object, ...]:
    data = report_data(report, None, w.at(6, 1))
    rates = [astuple(data.rates.total), {name: [astuple(row) for row in rows]
                                         for name, rows in data.rates.breakdowns.items()}]  # fmt: skip
    return [astuple(row) for row in data.funnel], rates, astuple(data.acquisition), data.stale_total, data.stale


def test_the_page_gives_the_same_figures_at_once_as_one_after_another(settings, funnel_world, rates_world):
    reports = (ReportFilter(**MARCH), ReportFilter(user_id=rates_world["bob"].pk, **MARCH))
    settings.LINKCRM_REPORT_CONNECTIONS = 1
    one_by_one = [page(report) for report in reports]
    settings.LINKCRM_REPORT_CONNECTIONS = 4
    assert [page(report) for report in reports] == one_by_one
    assert one_by_one[0][0][0][2] > 0  # the world is seen: prospects entered the first stage
