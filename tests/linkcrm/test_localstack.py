"""The local services runner: up, status and down are idempotent and leave nothing behind."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from unittest import mock

import psycopg
import pytest

from linkcrm.localstack.config import BASE_DIR, StackConfig
from linkcrm.localstack.procs import is_root, port_open

pytestmark = pytest.mark.mail


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def private_stack(tmp_path: Path):
    """Environment for a second, private stack in a directory the postgres user cannot reach."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        LINKCRM_STACK="dev",
        LINKCRM_DATA_DIR=str(tmp_path / "data"),
        LINKCRM_PG_PORT=str(_free_port()),
        LINKCRM_SMTP_PORT=str(_free_port()),
        LINKCRM_IMAP_PORT=str(_free_port()),
        LINKCRM_LMTP_PORT=str(_free_port()),
    )
    yield env
    subprocess.run([sys.executable, "-m", "linkcrm.localstack", "down"], env=env, cwd=BASE_DIR, check=False)


def _stack(env: dict[str, str], command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "linkcrm.localstack", command],
        env=env, cwd=BASE_DIR, capture_output=True, text=True, timeout=120, check=False,
    )


def _ports(env: dict[str, str]) -> list[int]:
    names = ("LINKCRM_PG_PORT", "LINKCRM_SMTP_PORT", "LINKCRM_IMAP_PORT", "LINKCRM_LMTP_PORT")
    return [int(env[name]) for name in names]


def test_up_status_down_are_idempotent_and_leave_nothing_running(private_stack):
    assert _stack(private_stack, "status").returncode == 3

    first = _stack(private_stack, "up")
    assert first.returncode == 0, first.stdout + first.stderr
    assert all(port_open(port) for port in _ports(private_stack))
    again = _stack(private_stack, "up")
    assert again.returncode == 0, again.stdout + again.stderr
    status = _stack(private_stack, "status")
    assert status.returncode == 0
    assert "running" in status.stdout

    pg_port = int(private_stack["LINKCRM_PG_PORT"])
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{pg_port}/linkcrm") as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("linkcrm",)

    assert _stack(private_stack, "down").returncode == 0
    assert _stack(private_stack, "down").returncode == 0
    assert not any(port_open(port) for port in _ports(private_stack))
    assert _stack(private_stack, "status").returncode == 3


def test_no_processes_of_the_stack_survive_down(private_stack):
    assert _stack(private_stack, "up").returncode == 0
    data_dir = private_stack["LINKCRM_DATA_DIR"]
    assert _stack(private_stack, "down").returncode == 0
    with mock.patch.dict(os.environ, private_stack):
        runtime_name = StackConfig.from_env().runtime_dir.name  # in Dovecot's and the SMTP server's args
    markers = (data_dir, runtime_name, f"-p {private_stack['LINKCRM_PG_PORT']}")
    alive = [args for state, args in _processes() if state != "Z" and any(m in args for m in markers)]
    assert alive == []


def _processes() -> list[tuple[str, str]]:
    """(state, command line) of every process, read from /proc (no procps needed)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        found.append((state, args))
    return found


@pytest.mark.skipif(not is_root(), reason="the fallback only applies when running as root")
def test_postgres_data_falls_back_to_tmp_when_the_postgres_user_cannot_reach_the_checkout(private_stack):
    # pytest's tmp_path lives under a 0700 directory owned by root: postgres cannot enter it.
    assert _stack(private_stack, "up").returncode == 0
    status = _stack(private_stack, "status").stdout
    assert private_stack["LINKCRM_DATA_DIR"] not in status.split("postgres", 1)[1].splitlines()[0]
    assert "/linkcrm-" in status


def test_with_database_url_no_cluster_is_started(private_stack):
    private_stack["DATABASE_URL"] = os.environ["DATABASE_URL"]
    result = _stack(private_stack, "up")
    assert result.returncode == 0
    assert "DATABASE_URL is set" in result.stdout
    assert not port_open(int(private_stack["LINKCRM_PG_PORT"]))


def test_a_taken_port_is_named_instead_of_a_cryptic_failure(private_stack):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", int(private_stack["LINKCRM_PG_PORT"])))
        squatter.listen()
        result = _stack(private_stack, "up")
    assert result.returncode == 1
    assert f"port {private_stack['LINKCRM_PG_PORT']} for PostgreSQL is taken" in result.stdout


def test_the_dev_stack_keeps_its_own_encryption_key_between_runs(private_stack, tmp_path):
    from cryptography.fernet import Fernet

    private_stack.pop("LINKCRM_ENCRYPTION_KEY", None)
    with mock.patch.dict(os.environ, private_stack, clear=True):
        config = StackConfig.from_env()
        first = config.child_environ()["LINKCRM_ENCRYPTION_KEY"]
        assert StackConfig.from_env().child_environ()["LINKCRM_ENCRYPTION_KEY"] == first
    Fernet(first.encode())  # a valid key
    key_file = Path(private_stack["LINKCRM_DATA_DIR"]) / "encryption.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    with mock.patch.dict(os.environ, {**private_stack, "LINKCRM_ENCRYPTION_KEY": "mine"}, clear=True):
        assert StackConfig.from_env().child_environ()["LINKCRM_ENCRYPTION_KEY"] == "mine"
