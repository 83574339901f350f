"""The sandbox SMTP server: accepts mail on loopback and hands it to Dovecot over LMTP.

Delivery happens inside the DATA command, so when a client's ``sendmail`` returns the
message is already readable over IMAP: tests need no waiting. AUTH is offered without TLS
(loopback only) and accepts any user with the sandbox password, so a mailbox configured
like a real provider's works unchanged against the sandbox.

Like Gmail and most hosted providers, it files a copy of what an *authenticated* client
submits in that user's Sent folder (over IMAP, with the sandbox password), so the outbox's
reconciliation and a mailbox with ``server_saves_sent`` behave as they would for real. An
unauthenticated submission is not filed: a mailbox without an SMTP login emulates a server
that leaves filing to the client.

Run as ``python -m linkcrm.localstack.smtpd --port 2525 --lmtp-port 2424 --imap-port 1143``.
"""

from __future__ import annotations

import argparse
import asyncio
import imaplib
import logging
import os
import signal
import smtplib
import time
from pathlib import Path

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

log = logging.getLogger("linkcrm.sandbox.smtp")


class LmtpRelay:
    """aiosmtpd handler: deliver each recipient to Dovecot's LMTP in its own transaction.

    One recipient per transaction because LMTP answers once per recipient after DATA and
    smtplib.LMTP reads only one answer (see INFRA-NOTES).
    """

    def __init__(self, lmtp_port: int, imap_port: int | None = None, password: str = "") -> None:
        self.lmtp_port = lmtp_port
        self.imap_port = imap_port
        self.password = password

    def _deliver(self, sender: str, recipient: str, content: bytes) -> tuple[int, str]:
        try:
            with smtplib.LMTP("127.0.0.1", self.lmtp_port, timeout=30) as lmtp:
                lmtp.sendmail(sender, [recipient], content)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = exc.recipients[recipient]
            return code, text.decode(errors="replace")
        except smtplib.SMTPResponseException as exc:
            return exc.smtp_code, exc.smtp_error.decode(errors="replace")
        except OSError as exc:
            return 451, f"sandbox mail store unavailable: {exc}"
        return 250, "delivered"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        loop = asyncio.get_running_loop()
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        results = []
        for recipient in envelope.rcpt_tos:
            code, text = await loop.run_in_executor(
                None, self._deliver, envelope.mail_from or "", recipient, content
            )
            log.info("deliver %s -> %s: %s %s", envelope.mail_from, recipient, code, text)
            results.append((code, text))
        failed = [(code, text) for code, text in results if code >= 400]
        if failed and len(failed) == len(results):
            code, text = failed[0]
            return f"{code} {text}"
        login = session.auth_data if session.authenticated else None
        if isinstance(login, str) and self.imap_port:
            await loop.run_in_executor(None, self.save_sent, login, content)
        return "250 OK delivered to the sandbox"

    def save_sent(self, login: str, content: bytes) -> None:
        """File a copy in the submitting user's Sent folder, as a hosted provider's server does."""
        try:
            with imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=30) as imap:
                imap.login(login, self.password)
                imap.append("Sent", "(\\Seen)", imaplib.Time2Internaldate(time.time()), content)
        except (OSError, imaplib.IMAP4.error) as exc:
            log.warning("could not file a sent copy for %s: %s", login, exc)


class SandboxAuthenticator:
    """Accept any login name with the sandbox password (loopback-only demo mail)."""

    def __init__(self, password: str) -> None:
        self.password = password.encode()

    def __call__(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object):
        if isinstance(auth_data, LoginPassword) and auth_data.password == self.password:
            # The login name rides on the session: the relay files sent copies under it.
            return AuthResult(success=True, auth_data=auth_data.login.decode(errors="replace"))
        return AuthResult(success=False, handled=False)


async def serve(port: int, lmtp_port: int, password: str, pidfile: Path | None, imap_port: int | None = None) -> None:
    loop = asyncio.get_running_loop()
    handler = LmtpRelay(lmtp_port, imap_port, password)
    authenticator = SandboxAuthenticator(password)

    def factory() -> SMTP:
        return SMTP(
            handler,
            hostname="sandbox.linkcrm.test",
            enable_SMTPUTF8=True,
            decode_data=False,
            auth_require_tls=False,
            authenticator=authenticator,
            data_size_limit=50 * 1024 * 1024,
        )

    server = await loop.create_server(factory, host="127.0.0.1", port=port)
    if pidfile:
        pidfile.write_text(f"{os.getpid()}\n")
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("sandbox SMTP listening on 127.0.0.1:%s, delivering to LMTP %s", port, lmtp_port)
    await stop.wait()
    server.close()
    await server.wait_closed()
    if pidfile:
        pidfile.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--lmtp-port", type=int, required=True)
    parser.add_argument("--imap-port", type=int, help="file sent copies of authenticated submissions here")
    parser.add_argument("--pidfile", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # The password comes from the environment, not argv, so `ps` does not show it.
    password = os.environ.get("LINKCRM_SANDBOX_PASSWORD", "sandbox")
    asyncio.run(serve(args.port, args.lmtp_port, password, args.pidfile, args.imap_port))


if __name__ == "__main__":
    main()
