"""outreach.imap.read_fetch_answer: every shape of a FETCH answer reads the same as imapclient reads it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from outreach.imap import read_fetch_answer

HEADER = (b"BODY[HEADER]",)
HEAD = b"From: a@example.org\r\nSubject: hi\r\n\r\n"


def test_the_common_shape_gives_uid_section_size_and_an_aware_date():
    data = [
        (b'1 (UID 40 RFC822.SIZE 593 INTERNALDATE "22-Nov-2026 01:29:11 +0000" BODY[HEADER] {36}', HEAD),
        b")",
        (b'2 (UID 41 RFC822.SIZE 77 INTERNALDATE " 2-Jan-2027 23:05:00 -0130" BODY[HEADER] {36}', HEAD),
        b")",
    ]
    assert read_fetch_answer(data, HEADER) == {
        40: (HEAD, 593, datetime(2026, 11, 22, 1, 29, 11, tzinfo=UTC)),
        41: (HEAD, 77, datetime(2027, 1, 2, 23, 5, tzinfo=timezone(-timedelta(hours=1, minutes=30)))),
    }


def test_an_unsolicited_flags_answer_is_not_a_message():
    data = [
        b"7 (FLAGS (\\Seen))",
        (b'1 (UID 40 FLAGS () RFC822.SIZE 593 INTERNALDATE "22-Nov-2026 01:29:11 +0000" BODY[HEADER] {36}', HEAD),
        b")",
    ]
    assert list(read_fetch_answer(data, HEADER)) == [40]


@pytest.mark.parametrize(
    "data",
    [
        # The section as a quoted string instead of a literal.
        [b'1 (UID 40 RFC822.SIZE 593 INTERNALDATE "22-Nov-2026 01:29:11 +0000" BODY[HEADER] "From: a@b.c")'],
        # Attributes after the literal.
        [
            (b"1 (BODY[HEADER] {11}", b"From: a@b.c"),
            b' UID 40 RFC822.SIZE 593 INTERNALDATE "22-Nov-2026 01:29:11 +0000")',
        ],
        # An attribute we did not ask for.
        [
            (
                b'1 (UID 40 X-GM-MSGID 123 RFC822.SIZE 593 INTERNALDATE "22-Nov-2026 01:29:11 +0000" BODY[HEADER] {11}',
                b"From: a@b.c",
            ),
            b")",
        ],
    ],
)
def test_other_shapes_are_read_by_the_general_parser(data):
    ((uid, (raw, size, date)),) = read_fetch_answer(data, HEADER).items()
    assert (uid, raw, size) == (40, b"From: a@b.c", 593)
    assert date == datetime(2026, 11, 22, 1, 29, 11, tzinfo=UTC) and date.utcoffset() == timedelta(0)


def test_no_answer_is_no_message():
    assert read_fetch_answer([None], HEADER) == {}
