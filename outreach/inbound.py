"""The facts of an inbound message the inbox shows that classification does not give.

Read from the message the classifier parsed (``message_facts``): display name,
recipients, Date, and the readable text, all tolerant of broken mail.
"""

from __future__ import annotations

import email.utils
import functools
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import Message

from django.utils import timezone

from outreach.mailparts import datetime_from_fields, header_text, header_values, readable_text

TEXT_LIMIT = 50_000
# "Sat, 21 Nov 2026 10:00:19 +0000", as nearly every mailer writes Date, read without email.utils'
# general parser; any other form (obsolete zones, two-digit years, no seconds) still goes through it.
_USUAL_DATE_RE = re.compile(
    r"(?:[A-Za-z]{3}, )?(\d{1,2}) ([A-Za-z]{3}) (\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)"
)


@dataclass(frozen=True)
class RowFacts:
    """Display facts of one message ("" / None when absent or unreadable)."""

    from_name: str
    to_addresses: str
    subject: str
    date: datetime | None
    text: str


# No display facts: an unreadable message, or one judged by its headers alone.
NO_FACTS = RowFacts(from_name="", to_addresses="", subject="", date=None, text="")


def message_facts(msg: Message) -> RowFacts:
    """The display facts of a parsed message (``mailparts.parse_message``); never raises."""
    try:
        return RowFacts(
            from_name=_display_name(header_text(msg, "From")),
            to_addresses=_recipients(tuple(header_values(msg, "To"))),
            subject=header_text(msg, "Subject"),
            date=_date(header_text(msg, "Date")),
            text=readable_text(msg)[:TEXT_LIMIT],
        )
    except Exception:  # hostile input: the row is still stored, as the classifier saw it
        return NO_FACTS


@functools.lru_cache(maxsize=4096)
def _display_name(value: str) -> str:
    # Memoised, like the recipients: a mailbox hears from the same people again and again.
    return email.utils.parseaddr(value)[0]


@functools.lru_cache(maxsize=1024)
def _recipients(values: tuple[str, ...]) -> str:
    return ", ".join(a.lower() for _, a in email.utils.getaddresses(list(values)) if a)


def _date(value: str) -> datetime | None:
    """The moment a Date header names, aware; None when it names none between 1970 and 9999."""
    usual = _USUAL_DATE_RE.fullmatch(value)
    if usual is not None:
        moment = datetime_from_fields(*usual.groups())
    else:
        try:
            moment = email.utils.parsedate_to_datetime(value) if value else None
        except (TypeError, ValueError, IndexError):
            return None
    if moment is None or not 1970 <= moment.year <= 9999:
        return None
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=timezone.utc)
