"""Small process helpers shared by the local services: run as a service user, wait, stop."""

from __future__ import annotations

import os
import pwd
import signal
import socket
import subprocess
import time
from pathlib import Path


class StackError(RuntimeError):
    """A local service could not be started or stopped; the message says what to do."""


def is_root() -> bool:
    return os.geteuid() == 0


def as_user(user: str | None, argv: list[str]) -> list[str]:
    """Prefix ``argv`` so it runs as ``user`` when we are root (PostgreSQL refuses root)."""
    if user and is_root():
        return ["runuser", "-u", user, "--", *argv]
    return argv


def user_can_traverse(user: str, path: Path) -> bool:
    """True when ``user`` can reach ``path`` (every parent directory executable for it)."""
    if not is_root():
        return True
    result = subprocess.run(
        ["runuser", "-u", user, "--", "test", "-x", str(path)], capture_output=True, check=False
    )
    return result.returncode == 0


def chown_tree(path: Path, user: str) -> None:
    if not is_root():
        return
    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    for root, dirs, files in os.walk(path):
        os.chown(root, entry.pw_uid, entry.pw_gid)
        for name in dirs + files:
            os.lchown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def wait_for_port(port: int, *, timeout: float, what: str, alive: callable | None = None) -> None:
    """Poll until something listens on ``port``; fail early when the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port):
            return
        if alive is not None and not alive():
            raise StackError(f"{what} exited before it listened on 127.0.0.1:{port}")
        time.sleep(0.05)
    raise StackError(f"{what} did not listen on 127.0.0.1:{port} within {timeout:.0f}s")


def read_pid(pidfile: Path) -> int | None:
    try:
        return int(pidfile.read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); treat it as gone.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return True
    return state != "Z"


def stop_pid(pid: int | None, *, timeout: float = 10.0, sig: int = signal.SIGTERM) -> None:
    """Send ``sig`` and wait for the process to end; SIGKILL after ``timeout``."""
    if not pid_alive(pid):
        return
    assert pid is not None
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    while pid_alive(pid):
        time.sleep(0.05)
