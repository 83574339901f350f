"""A project-local PostgreSQL cluster (Debian's binaries), on loopback only."""

from __future__ import annotations

import glob
import shutil
import subprocess
from pathlib import Path

from linkcrm.localstack.config import StackConfig
from linkcrm.localstack.procs import StackError, as_user, chown_tree, is_root, port_open, user_can_traverse

SERVICE_USER = "postgres"
DATABASE = "linkcrm"


def bin_dir() -> Path:
    """Newest installed PostgreSQL's bin directory; Debian keeps it off PATH."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    if candidates:
        return Path(candidates[-1])
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    raise StackError("PostgreSQL server binaries not found: install Debian's 'postgresql' package")


def _user() -> str | None:
    return SERVICE_USER if is_root() else None


def cluster_dir(config: StackConfig) -> Path:
    """``<data>/pg``, or a directory under /tmp when the postgres user cannot reach the checkout."""
    preferred = config.data_dir / "pg"
    if not is_root():
        return preferred
    config.data_dir.mkdir(parents=True, exist_ok=True)
    if user_can_traverse(SERVICE_USER, config.data_dir):
        return preferred
    return config.runtime_dir / "pg"


def _pg_ctl(config: StackConfig, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    argv = as_user(_user(), [str(bin_dir() / "pg_ctl"), "-D", str(cluster_dir(config)), *args])
    return subprocess.run(argv, capture_output=True, text=True, check=check)


def is_running(config: StackConfig) -> bool:
    if not (cluster_dir(config) / "PG_VERSION").exists():
        return False
    return _pg_ctl(config, "status", check=False).returncode == 0


def _initdb(config: StackConfig, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    if is_root():
        chown_tree(directory, SERVICE_USER)
    argv = [
        str(bin_dir() / "initdb"), "-D", str(directory), "-U", "postgres", "-A", "trust",
        "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
    ]
    result = subprocess.run(as_user(_user(), argv), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise StackError(f"initdb failed:\n{result.stdout}{result.stderr}")


def up(config: StackConfig) -> bool:
    """Start the cluster (creating it first if needed). Returns True when it was started now."""
    if is_running(config):
        return False
    if port_open(config.pg_port):
        raise StackError(
            f"port {config.pg_port} for PostgreSQL is taken by another program "
            "(another LinkCRM stack? choose another with LINKCRM_PG_PORT)"
        )
    directory = cluster_dir(config)
    if not (directory / "PG_VERSION").exists():
        _initdb(config, directory)
    options = f"-c listen_addresses=127.0.0.1 -p {config.pg_port} -c unix_socket_directories=''"
    if config.profile == "test":
        # A throw-away cluster: durability buys nothing and costs test time.
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    log = directory.parent / f"{directory.name}.log"
    if is_root():
        log.touch()
        chown_tree(log, SERVICE_USER)
    result = _pg_ctl(config, "-w", "-t", "60", "-l", str(log), "-o", options, "start", check=False)
    if result.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise StackError(f"PostgreSQL did not start on port {config.pg_port}:\n{result.stderr}{tail}")
    ensure_database(config)
    return True


def ensure_database(config: StackConfig) -> None:
    import psycopg  # imported late: the venv may not exist when this module is imported

    admin_url = f"postgresql://postgres@127.0.0.1:{config.pg_port}/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE}"')


def down(config: StackConfig) -> bool:
    if not is_running(config):
        return False
    _pg_ctl(config, "-m", "fast", "-w", "stop")
    return True


def status(config: StackConfig) -> str:
    where = cluster_dir(config)
    if is_running(config):
        return f"running on 127.0.0.1:{config.pg_port} (data {where})"
    return f"stopped (data {where})"
