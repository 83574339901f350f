"""Where the local stack lives and which ports it uses, from the environment.

Two profiles share one code path: ``dev`` (``make run``) and ``test`` (``make test``).
They differ only in defaults, so a dev stack and a test stack can run side by side.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from linkcrm.lib.env import env_choice, env_port, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

_DEFAULTS = {
    "dev": {"data": ".data", "pg": 55432, "smtp": 2525, "imap": 1143, "lmtp": 2424, "web": 8000},
    "test": {"data": ".data-test", "pg": 55442, "smtp": 2535, "imap": 1153, "lmtp": 2434, "web": 8010},
}

SANDBOX_DOMAIN = "linkcrm.test"


@dataclass(frozen=True)
class StackConfig:
    """Paths and loopback ports of one local stack."""

    profile: str
    data_dir: Path
    pg_port: int
    smtp_port: int
    imap_port: int
    lmtp_port: int
    web_host: str
    web_port: int
    sandbox_password: str
    database_url: str | None

    @classmethod
    def from_env(cls) -> StackConfig:
        profile = env_choice("LINKCRM_STACK", "dev", ("dev", "test"))
        defaults = _DEFAULTS[profile]
        data_dir = Path(env_str("LINKCRM_DATA_DIR", str(BASE_DIR / defaults["data"])) or "").resolve()
        return cls(
            profile=profile,
            data_dir=data_dir,
            pg_port=env_port("LINKCRM_PG_PORT", defaults["pg"]),
            smtp_port=env_port("LINKCRM_SMTP_PORT", defaults["smtp"]),
            imap_port=env_port("LINKCRM_IMAP_PORT", defaults["imap"]),
            lmtp_port=env_port("LINKCRM_LMTP_PORT", defaults["lmtp"]),
            web_host=env_str("LINKCRM_WEB_HOST", "127.0.0.1") or "127.0.0.1",
            web_port=env_port("LINKCRM_WEB_PORT", defaults["web"]),
            # The sandbox is loopback-only and holds demo mail; this is not a real secret.
            sandbox_password=env_str("LINKCRM_SANDBOX_PASSWORD", "sandbox") or "sandbox",
            database_url=env_str("DATABASE_URL"),
        )

    @property
    def runtime_dir(self) -> Path:
        """Sockets and pid files: short paths under /tmp (unix sockets cap paths at 107 bytes)."""
        digest = hashlib.sha256(str(self.data_dir).encode()).hexdigest()[:10]
        return Path(tempfile.gettempdir()) / f"linkcrm-{digest}"

    @property
    def local_database_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.pg_port}/linkcrm"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or self.local_database_url

    def dev_encryption_key(self) -> str:
        """The local stack's own Fernet key, made once and kept beside its data (mode 0600).

        Only for the dev stack when LINKCRM_ENCRYPTION_KEY is not set: mailbox passwords saved
        during a trial stay readable across restarts, and nothing is derived from a shared key.
        """
        path = self.data_dir / "encryption.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            key = base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(key + "\n")
        return path.read_text().strip()

    def child_environ(self) -> dict[str, str]:
        """The environment Django processes get: every port spelled out explicitly."""
        environ = dict(os.environ)
        if self.profile == "dev" and not environ.get("LINKCRM_ENCRYPTION_KEY"):
            environ["LINKCRM_ENCRYPTION_KEY"] = self.dev_encryption_key()
        environ.update(
            {
                "LINKCRM_STACK": self.profile,
                "LINKCRM_DATA_DIR": str(self.data_dir),
                "LINKCRM_PG_PORT": str(self.pg_port),
                "LINKCRM_SMTP_PORT": str(self.smtp_port),
                "LINKCRM_IMAP_PORT": str(self.imap_port),
                "LINKCRM_LMTP_PORT": str(self.lmtp_port),
                "LINKCRM_WEB_PORT": str(self.web_port),
                "DATABASE_URL": self.effective_database_url,
            }
        )
        return environ
