"""``manage.py classify_email FILE...``: say what each saved email is, for debugging a mailbox.

One line per file on stdout::

    <path>: <kind> [<failed recipient> permanent|transient|infrastructure] (<reason>)

The bracket appears for bounces (one entry per failed recipient), auto-replies with a return
date (``[back 2024-05-02]``) and complaints (``[the complained-about recipient]``). A file
that cannot be read or is not an email gets ``<path>: error: <why>`` on stderr, and the
command then exits 1 after classifying the rest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from outreach.bounces import BouncedRecipient
from outreach.choices import MessageKind
from outreach.classify import Classification, classify_message

MAX_BYTES = 50 * 1024 * 1024


class Command(BaseCommand):
    help = (
        "Classify saved emails (.eml files) as reply, auto-reply, bounce, complaint, bulk, own or unknown; "
        "for bounces also print the failed recipient and whether the failure is permanent."
    )
    # A debugging tool for files: no database, no URL or template checks needed.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="raw RFC 5322 message files")
        parser.add_argument(
            "--our-address", action="append", default=[], dest="our_addresses", metavar="ADDRESS",
            help="an address we send from: messages from it are our own (repeatable)",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        failures = 0
        for path in options["files"]:
            raw, error = _read(path)
            result = classify_message(raw, our_addresses=options["our_addresses"]) if error is None else None
            if result is None or result.malformed:
                failures += 1
                self.stderr.write(f"{path}: error: {error or (result.reason if result else 'unreadable')}")
                continue
            self.stdout.write(f"{path}: {format_line(result)}")
            if options["verbosity"] >= 2:
                for line in _details(result):
                    self.stdout.write(f"    {line}")
        if failures:
            raise CommandError(f"{failures} of {len(options['files'])} file(s) could not be read or parsed")


def _read(path: Path) -> tuple[bytes, str | None]:
    """The file's bytes, or an error saying why it cannot be read."""
    try:
        if path.stat().st_size > MAX_BYTES:
            return b"", f"larger than {MAX_BYTES // (1024 * 1024)} MB"
        return path.read_bytes(), None
    except OSError as exc:
        return b"", exc.strerror or str(exc)


def format_line(result: Classification) -> str:
    """``<kind> [details] (<reason>)`` for one classification."""
    kind = result.kind.value.replace("_", "-")
    bracket = ""
    if result.kind == MessageKind.BOUNCE:
        entries = [f"{r.address} {_verdict(r)}" for r in result.bounced] or [
            f"unknown recipient {_verdict(None)}"
        ]
        bracket = f" [{', '.join(entries)}]"
    elif result.kind == MessageKind.AUTO_REPLY and result.return_date is not None:
        bracket = f" [back {result.return_date.isoformat()}]"
    elif result.kind == MessageKind.COMPLAINT and result.complained_recipient:
        bracket = f" [{result.complained_recipient}]"
    return f"{kind}{bracket} ({result.reason})"


def _verdict(recipient: BouncedRecipient | None) -> str:
    if recipient is None or recipient.permanent is None and not recipient.infrastructure:
        return "undetermined"
    if recipient.infrastructure:
        return "infrastructure"
    return "permanent" if recipient.permanent else "transient"


def _details(result: Classification) -> list[str]:
    """Extra lines for ``-v 2``: codes, diagnostics and the Message-IDs to match."""
    lines = [f"status {r.status_code or '-'}: {r.diagnostic}" for r in result.bounced]
    for label, value in (
        ("message-id", result.message_id),
        ("in-reply-to", " ".join(result.in_reply_to)),
        ("original message-id", result.original_message_id),
        ("feedback-type", result.feedback_type),
    ):
        if value:
            lines.append(f"{label}: {value}")
    return lines
