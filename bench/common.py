"""What the benches share: their own PostgreSQL (the local stack's test profile), tuned and migrated."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"

# Bench-only server settings: a throw-away cluster, sized for a 24 GB machine.
PG_TUNING = {
    "shared_buffers": "2GB",
    "max_wal_size": "16GB",
    "checkpoint_timeout": "1h",
    "wal_buffers": "64MB",
    "maintenance_work_mem": "512MB",
}


def log(message: str) -> None:
    print(message, flush=True)


def stack_config(port: int, name: str) -> Any:
    """The test-profile stack in bench/out/<name>-stack, with throw-away Django secrets in os.environ."""
    os.environ.update(
        {"LINKCRM_STACK": "test", "LINKCRM_DATA_DIR": str(OUT / f"{name}-stack"), "LINKCRM_PG_PORT": str(port)}
    )
    use_throwaway_secrets()
    os.environ.setdefault("MEDIA_ROOT", str(OUT / f"{name}-media"))
    from linkcrm.localstack.config import StackConfig

    return StackConfig.from_env()


def use_throwaway_secrets() -> None:
    """The secrets Django's settings require, made up for a bench; the stack's database, not DATABASE_URL."""
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("SECRET_KEY", "bench-only")
    # A throw-away key: nothing the bench stores is encrypted, but the settings require one.
    os.environ.setdefault("LINKCRM_ENCRYPTION_KEY", base64.urlsafe_b64encode(os.urandom(32)).decode())


def psql(config: Any, sql: str, *, database: str = "linkcrm") -> str:
    argv = ["/usr/bin/psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
            "-p", str(config.pg_port), "-U", "postgres", "-d", database, "-c", sql]  # fmt: skip
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout.strip()


def start_postgres(
    config: Any, fresh: bool, *, environ: dict[str, str] | None = None, migrate_args: tuple[str, ...] = ()
) -> None:
    """Up, tuned (PG_TUNING), with the 'linkcrm' database (dropped first when fresh) migrated.

    ``environ`` is the migrate process's environment (default: ``config.child_environ()``).
    """
    from linkcrm.localstack import postgres

    postgres.up(config)
    wanted = {name: value for name, value in PG_TUNING.items() if psql(config, f"SHOW {name}") != value}
    if wanted:
        for name, value in wanted.items():
            psql(config, f"ALTER SYSTEM SET {name} = '{value}'")
        postgres.down(config)
        postgres.up(config)
    if fresh:
        psql(config, "DROP DATABASE IF EXISTS linkcrm WITH (FORCE)", database="postgres")
        psql(config, "CREATE DATABASE linkcrm", database="postgres")
    argv = [sys.executable, str(ROOT / "manage.py"), "migrate", "-v0", *migrate_args]
    subprocess.run(argv, env=environ or config.child_environ(), cwd=ROOT, check=True)
