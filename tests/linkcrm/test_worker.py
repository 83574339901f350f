"""The django-q2 worker runs tasks from the PostgreSQL (ORM) broker."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys

import pytest
from django.conf import settings
from django_q.models import Task
from django_q.tasks import async_task, result

from linkcrm.localstack.config import BASE_DIR

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_real_worker_runs_an_enqueued_task():
    db = settings.DATABASES["default"]
    env = dict(os.environ, DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}")
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"], cwd=BASE_DIR, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        task_id = async_task("math.factorial", 10)
        # django-q2's own blocking wait: returns as soon as the worker stored the result.
        assert result(task_id, wait=60_000) == 3628800
        assert Task.objects.get(id=task_id).success is True
    finally:
        worker.send_signal(signal.SIGTERM)  # the cluster stops its own workers
        try:
            worker.wait(timeout=30)
        finally:
            with contextlib.suppress(ProcessLookupError):  # normally nothing is left to kill
                os.killpg(worker.pid, signal.SIGKILL)
