"""The sandbox SMTP server: accepts mail on loopback and hands it to Dovecot over LMTP.

Delivery happens inside the DATA command, so when a client's ``sendmail`` returns the
message is already readable over IMAP: tests need no waiting. AUTH is offered without TLS
(loopback only) and accepts any user with the sandbox password, so a mailbox configured
like a real provider's works unchanged against the sandbox.

Run as ``python -m linkcrm.localstack.smtpd --port 2525 --lmtp-port 2424``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import smtplib
from pathlib import Path

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

log = logging.getLogger("linkcrm.sandbox.smtp")


class LmtpRelay:
    """aiosmtpd handler: deliver each recipient to Dovecot's LMTP in its own transaction.

    One recipient per transaction because LMTP answers once per recipient after DATA and
    smtplib.LMTP reads only one answer (see INFRA-NOTES).
    """

    def __init__(self, lmtp_port: int) -> None:
        self.lmtp_port = lmtp_port

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
        return "250 OK delivered to the sandbox"


class SandboxAuthenticator:
    """Accept any login name with the sandbox password (loopback-only demo mail)."""

    def __init__(self, password: str) -> None:
        self.password = password.encode()

    def __call__(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object):
        if isinstance(auth_data, LoginPassword) and auth_data.password == self.password:
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


async def serve(port: int, lmtp_port: int, password: str, pidfile: Path | None) -> None:
    loop = asyncio.get_running_loop()
    handler = LmtpRelay(lmtp_port)
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
    parser.add_argument("--pidfile", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # The password comes from the environment, not argv, so `ps` does not show it.
    password = os.environ.get("LINKCRM_SANDBOX_PASSWORD", "sandbox")
    asyncio.run(serve(args.port, args.lmtp_port, password, args.pidfile))


if __name__ == "__main__":
    main()
