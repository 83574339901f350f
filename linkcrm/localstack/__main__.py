"""Command line of the local stack: ``python -m linkcrm.localstack COMMAND``.

Commands:
  up        start PostgreSQL (unless DATABASE_URL is set), Dovecot and the SMTP sandbox
  down      stop them; nothing is left running
  status    say what runs where (exit 0 when everything is up, 3 otherwise)
  run       up, migrate, first admin, demo workspace, worker and web server; Ctrl-C stops all
  test      an isolated test stack around pytest; always stopped; exits with pytest's status
  manage    any manage.py command against the stack, starting (and then stopping) what is down
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Sequence

from linkcrm.localstack import mail, postgres
from linkcrm.localstack.config import BASE_DIR, StackConfig
from linkcrm.localstack.procs import StackError, wait_for_port


def _say(message: str) -> None:
    print(f"linkcrm: {message}", flush=True)


def up_all(config: StackConfig) -> list[str]:
    """Start what is not running; return the names of what this call started."""
    started = []
    if config.database_url:
        _say("DATABASE_URL is set: using that server, no local PostgreSQL started")
    elif postgres.up(config):
        started.append("postgres")
    if mail.up(config):
        started.append("mail")
    return started


def down_all(config: StackConfig, only: Sequence[str] | None = None) -> None:
    if only is None or "mail" in only:
        mail.down(config)
    if (only is None or "postgres" in only) and not config.database_url:
        postgres.down(config)


def status_lines(config: StackConfig) -> tuple[list[str], bool]:
    if config.database_url:
        pg_line, pg_ok = "postgres  external (DATABASE_URL)", True
    else:
        pg_ok = postgres.is_running(config)
        pg_line = f"postgres  {postgres.status(config)}"
    lines = [f"stack     {config.profile} (data {config.data_dir})", pg_line, *mail.status(config)]
    ok = pg_ok and mail.dovecot_running(config) and mail.smtpd_running(config)
    return lines, ok


def manage_py(config: StackConfig, *args: str, check: bool = True) -> int:
    result = subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), *args], env=config.child_environ(), cwd=BASE_DIR, check=False
    )
    if check and result.returncode != 0:
        raise StackError(f"manage.py {' '.join(args)} failed with exit status {result.returncode}")
    return result.returncode


class Children:
    """Long-running children (worker, web server) that die together with the runner."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, argv: list[str]) -> None:
        # Own session: the runner decides how they stop, so Ctrl-C cannot orphan a grandchild.
        proc = subprocess.Popen(argv, env=self.config.child_environ(), cwd=BASE_DIR, start_new_session=True)
        self.procs.append((name, proc))

    def first_exited(self) -> str | None:
        for name, proc in self.procs:
            if proc.poll() is not None:
                return name
        return None

    def stop(self, timeout: float = 15.0) -> None:
        for _, proc in self.procs:
            if proc.poll() is None:
                # The leader only: gunicorn and qcluster stop their own children cleanly, while a
                # SIGTERM to the whole group leaves django-q2's sentinel waiting forever.
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for _, proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        for _, proc in self.procs:
            # Whatever the process group still holds (e.g. a worker's own children) goes now.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


class _Stop(Exception):
    pass


def _raise_stop(signum: int, frame: object) -> None:
    raise _Stop()


def cmd_run(config: StackConfig) -> int:
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    children = Children(config)
    try:
        up_all(config)
        manage_py(config, "migrate", "--noinput", "-v0")
        manage_py(config, "collectstatic", "--noinput", "-v0")
        manage_py(config, "bootstrap")
        manage_py(config, "load_demo")
        children.start("worker", [sys.executable, "manage.py", "qcluster"])
        bind = f"{config.web_host}:{config.web_port}"
        children.start(
            "web",
            [
                sys.executable, "-m", "gunicorn", "linkcrm.wsgi:application", "--bind", bind,
                "--workers", os.environ.get("LINKCRM_WEB_WORKERS", "2"), "--access-logfile", "-",
            ],
        )
        wait_for_port(config.web_port, timeout=30, what="web server", alive=lambda: children.first_exited() is None)
        host = "localhost" if config.web_host in {"127.0.0.1", "0.0.0.0"} else config.web_host  # noqa: S104
        _say(f"LinkCRM is running at http://{host}:{config.web_port}/  (Ctrl-C stops everything)")
        _say(f"sandbox mail: SMTP 127.0.0.1:{config.smtp_port}, IMAP 127.0.0.1:{config.imap_port}")
        while True:
            exited = children.first_exited()
            if exited:
                _say(f"the {exited} process exited; stopping")
                return 1
            time.sleep(0.5)
    except _Stop:
        _say("stopping")
        return 0
    except StackError as exc:
        _say(f"error: {exc}")
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        children.stop()
        down_all(config)
        _say("stopped; data kept in " + str(config.data_dir))


def cmd_test(config: StackConfig, pytest_args: list[str]) -> int:
    signal.signal(signal.SIGTERM, _raise_stop)
    try:
        up_all(config)
        env = config.child_environ()
        # Tests run as production does (DEBUG off), over plain HTTP, with a throw-away key.
        env.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
        # Production refuses to start without it (mailbox passwords are encrypted at rest).
        fernet_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        env.setdefault("LINKCRM_ENCRYPTION_KEY", fernet_key)
        env.setdefault("LINKCRM_HTTPS", "false")
        env.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API beside live_server
        env.pop("DEBUG", None)
        result = subprocess.run([sys.executable, "-m", "pytest", *pytest_args], env=env, cwd=BASE_DIR, check=False)
        return result.returncode
    except _Stop:
        return 143
    except StackError as exc:
        _say(f"error: {exc}")
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        down_all(config)


def cmd_manage(config: StackConfig, args: list[str]) -> int:
    started = up_all(config)
    try:
        return manage_py(config, *args, check=False)
    finally:
        # Leave the stack as we found it: cron jobs must not accumulate servers.
        down_all(config, only=started)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "test":
        os.environ["LINKCRM_STACK"] = "test"
    try:
        config = StackConfig.from_env()
    except ValueError as exc:
        _say(f"error: {exc}")
        return 2
    try:
        if command == "up":
            up_all(config)
            print("\n".join(status_lines(config)[0]))
            return 0
        if command == "down":
            down_all(config)
            print("\n".join(status_lines(config)[0]))
            return 0
        if command == "status":
            lines, ok = status_lines(config)
            print("\n".join(lines))
            return 0 if ok else 3
        if command == "run":
            return cmd_run(config)
        if command == "test":
            return cmd_test(config, rest)
        if command == "manage":
            return cmd_manage(config, rest)
    except StackError as exc:
        _say(f"error: {exc}")
        return 1
    _say(f"unknown command {command!r}")
    print(__doc__)
    return 2



if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
