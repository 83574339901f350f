"""SMTP servers a test starts itself, on a free loopback port, that misbehave on purpose.

They are the sandbox's own relay (linkcrm.localstack.smtpd: delivery into the stack's Dovecot
over LMTP, sent copies filed for logged-in users) with a script of failures on top, so what
a test reads back over IMAP is what really arrived.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from imapclient import IMAPClient

from linkcrm.localstack.config import StackConfig
from linkcrm.localstack.smtpd import LmtpRelay, SandboxAuthenticator


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Script:
    """What the server does wrong: replies for the first DATA commands, RCPT refusals, a drop."""

    data_replies: list[str] = field(default_factory=list)
    rcpt_reply: str | None = None
    # Store the message (inbox and Sent), then cut the connection before answering DATA.
    drop_after_store: bool = False


class ScriptedRelay(LmtpRelay):
    def __init__(self, stack: StackConfig, script: Script) -> None:
        super().__init__(stack.lmtp_port, stack.imap_port, stack.sandbox_password)
        self.script = script
        self.data_calls = 0

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if self.script.rcpt_reply:
            return self.script.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.data_calls += 1
        if self.script.data_replies:
            return self.script.data_replies.pop(0)
        reply = await super().handle_DATA(server, session, envelope)
        if self.script.drop_after_store:
            server.transport.abort()  # the message is stored; the client never hears about it
        return reply


@contextmanager
def scripted_smtp(stack: StackConfig, script: Script) -> Iterator[tuple[int, ScriptedRelay]]:
    """(port, handler) of a running scripted server; stopped on exit."""
    handler = ScriptedRelay(stack, script)
    controller = Controller(
        handler, hostname="127.0.0.1", port=free_port(), auth_require_tls=False,
        authenticator=SandboxAuthenticator(stack.sandbox_password),
    )
    controller.start()
    try:
        yield controller.port, handler
    finally:
        controller.stop()


def imap_messages(stack: StackConfig, address: str, folder: str = "INBOX") -> list[bytes]:
    """Every message (headers and body) in one folder of a sandbox mailbox, read without flag changes."""
    with IMAPClient("127.0.0.1", port=stack.imap_port, ssl=False, timeout=10) as imap:
        imap.login(address, stack.sandbox_password)
        imap.select_folder(folder, readonly=True)
        uids = imap.search(["ALL"])
        fetched = imap.fetch(uids, ["BODY.PEEK[]"]) if uids else {}
    return [fetched[uid][b"BODY[]"] for uid in uids]
