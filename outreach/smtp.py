"""The SMTP conversation for one message on an open connection, with every failure classified.

The one question that matters is *could the server have the message?* (DESIGN.md §4.8):

* ``RETRY``: a 4xx reply, or the connection broke before the server said 354 to DATA. The
  server cannot have accepted the message; sending it again later is safe.
* ``FAILED``: a 5xx reply. ``recipient_refused`` says whether the server refused the
  recipient itself (RCPT, or a 5.1.x status after the data): the address does not exist.
* ``UNKNOWN``: the connection broke or timed out after the message data started going out.
  The server may have delivered it; the outbox reconciles against the Sent folder instead
  of resending.
* ``SENT``: 250 after the data.

MAIL, RCPT and DATA are spoken one by one (not ``sendmail``) so the step where a failure
happened is known exactly.
"""

from __future__ import annotations

import enum
import re
import smtplib
import socket
from collections.abc import Callable
from dataclasses import dataclass

_DOT_AT_LINE_START = re.compile(rb"(?m)^\.")
_ENHANCED_STATUS = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})\b")


class Outcome(enum.StrEnum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class SendResult:
    """What happened to one message: the outcome, the server's code and words (or our reason)."""

    outcome: Outcome
    code: int | None = None
    detail: str = ""
    recipient_refused: bool = False
    # The connection is unusable afterwards (broken or desynchronised): open a new one.
    connection_lost: bool = False


def send_raw(
    client: smtplib.SMTP, *, sender: str, recipient: str, raw: bytes, meanwhile: Callable[[], None] | None = None
) -> SendResult:
    """Send one message (CRLF line endings) to one recipient over ``client``; never raises.

    After a refusal the transaction is reset (RSET), so the next message can use the same
    connection unless ``connection_lost`` is set. ``meanwhile`` runs after the data is written
    and before its reply is read, while the server delivers (e.g. to build the next message);
    it must not raise.
    """
    try:
        code, reply = client.mail(sender)
        if code != 250:
            # A refused sender is this mailbox's problem, not the message's: retried, never failed.
            return _refused(client, "MAIL FROM", code, reply, recipient_step=False, may_fail=False)
        code, reply = client.rcpt(recipient)
        if code not in (250, 251):
            return _refused(client, "RCPT TO", code, reply, recipient_step=True)
        code, reply = client.docmd("DATA")
        if code != 354:
            return _refused(client, "DATA", code, reply, recipient_step=False)
    except (OSError, smtplib.SMTPException) as exc:
        return SendResult(Outcome.RETRY, None, f"before DATA: {_describe(exc)}", connection_lost=True)
    return _send_data(client, raw, meanwhile)


def _send_data(client: smtplib.SMTP, raw: bytes, meanwhile: Callable[[], None] | None) -> SendResult:
    """The message body and the final reply: from here on a broken connection is in doubt."""
    body = _DOT_AT_LINE_START.sub(b"..", raw)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    try:
        client.send(body + b".\r\n")
        if meanwhile is not None:
            meanwhile()
        code, reply = client.getreply()
    except (OSError, smtplib.SMTPException) as exc:
        return SendResult(Outcome.UNKNOWN, None, f"after DATA: {_describe(exc)}", connection_lost=True)
    text = _text(reply)
    if code == 250:
        return SendResult(Outcome.SENT, code, text)
    if 400 <= code < 500:
        return SendResult(Outcome.RETRY, code, f"after DATA: {code} {text}")
    if 500 <= code < 600:
        # Some servers refuse an unknown mailbox only after the data, with a 5.1.x status.
        refused = _enhanced_class(text) == ("5", "1")
        return SendResult(Outcome.FAILED, code, f"after DATA: {code} {text}", recipient_refused=refused)
    # Anything else (e.g. -1 from a closed socket): the server may or may not have it.
    return SendResult(Outcome.UNKNOWN, code, f"after DATA: unexpected reply {code} {text}", connection_lost=True)


def _refused(
    client: smtplib.SMTP, step: str, code: int, reply: bytes, *, recipient_step: bool, may_fail: bool = True
) -> SendResult:
    """A non-success reply before the data: 5xx fails (when ``may_fail``), anything else is retried."""
    text = _text(reply)
    lost = code < 0 or code == 421 or not _reset(client)
    if may_fail and 500 <= code < 600:
        return SendResult(Outcome.FAILED, code, f"{step}: {code} {text}", recipient_refused=recipient_step,
                          connection_lost=lost)
    return SendResult(Outcome.RETRY, code if code > 0 else None, f"{step}: {code} {text}", connection_lost=lost)


def _reset(client: smtplib.SMTP) -> bool:
    """RSET after a refusal; False when the connection did not survive it."""
    try:
        return client.rset()[0] == 250
    except (OSError, smtplib.SMTPException):
        return False


def _enhanced_class(text: str) -> tuple[str, str] | None:
    match = _ENHANCED_STATUS.match(text)
    return (match.group(1), match.group(2)) if match else None


def _text(reply: bytes | str) -> str:
    value = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(value.split())[:500]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {first}"[:300]


def close_quietly(client: smtplib.SMTP) -> None:
    """QUIT if the server still listens, then close; never raises."""
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()
