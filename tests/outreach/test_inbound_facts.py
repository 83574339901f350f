"""outreach.inbound: the display facts of an inbound row, read from the parsed message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from outreach.inbound import message_facts
from outreach.mailparts import parse_message


def _head(date: str) -> bytes:
    return (f"From: Jane Doe <jane@prospect.example>\r\nTo: a@linkcrm.example, B <b@linkcrm.example>\r\n"
            f"Subject: Hello\r\nDate: {date}\r\n\r\n").encode()  # fmt: skip


@pytest.mark.parametrize(
    ("date", "moment"),
    [
        ("Sat, 21 Nov 2026 10:00:19 +0000", datetime(2026, 11, 21, 10, 0, 19, tzinfo=UTC)),
        ("21 Nov 2026 10:00:19 -0130", datetime(2026, 11, 21, 10, 0, 19, tzinfo=timezone(-timedelta(minutes=90)))),
        ("Sat, 21 Nov 2026 10:00:19 -0000", datetime(2026, 11, 21, 10, 0, 19, tzinfo=UTC)),
        ("Sat, 21 Nov 2026 10:00:19 GMT", datetime(2026, 11, 21, 10, 0, 19, tzinfo=UTC)),  # obsolete zone
        ("Sat, 21 Nov 2026 10:00:19 +0100 (CET)", datetime(2026, 11, 21, 9, 0, 19, tzinfo=UTC)),  # with a comment
        ("Tue, 31 Feb 2026 10:00:19 +0000", None),  # no such day
        ("Sat, 21 Foo 2026 10:00:19 +0000", None),
        ("yesterday", None),
    ],
)
def test_the_date_sender_and_recipients_are_read_from_a_message(date, moment):
    facts = message_facts(parse_message(_head(date)))
    assert facts.date == moment
    assert (facts.from_name, facts.to_addresses) == ("Jane Doe", "a@linkcrm.example, b@linkcrm.example")
