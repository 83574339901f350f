"""outreach.imap against the real Dovecot sandbox: read-only, only new UIDs, in batches, capped."""

from __future__ import annotations

import pytest
from imapclient.exceptions import IMAPClientError

from outreach.imap import fetch_headers, fetch_in_batches, fetch_messages, folder_examine, uids_after
from tests.outreach.inbox_world import append, folder_flags, imap_session
from tests.outreach.world import unique_address

pytestmark = pytest.mark.mail


def _mail(number: int, body: str = "Hello.") -> bytes:
    return (f"From: a@example.org\r\nTo: b@example.org\r\nSubject: message {number}\r\n"
            f"Message-ID: <m{number}@example.org>\r\n\r\n{body}\r\n").encode()  # fmt: skip


@pytest.fixture
def address(stack) -> str:
    address = unique_address("imap")
    append(stack, address, *(_mail(n) for n in range(1, 6)))
    return address


def test_examine_reports_uidvalidity_and_count(stack, address):
    with imap_session(stack, address) as client:
        status = folder_examine(client, "INBOX")
        assert (status.name, status.exists) == ("INBOX", 5) and status.uidvalidity > 0
        assert folder_examine(client, "INBOX").uidvalidity == status.uidvalidity


def test_only_uids_above_the_last_one_are_listed(stack, address):
    with imap_session(stack, address) as client:
        folder_examine(client, "INBOX")
        assert uids_after(client, 0) == [1, 2, 3, 4, 5]
        assert uids_after(client, 3) == [4, 5]
        # "UID 6:*" answers UID 5 (the highest in use) by the RFC; it must not come back as new.
        assert uids_after(client, 5) == []
        assert uids_after(client, 50) == []


def test_batches_fetch_every_message_once_in_uid_order(stack, address):
    with imap_session(stack, address) as client:
        folder_examine(client, "INBOX")
        batches = list(fetch_in_batches(client, [1, 2, 3, 4, 5], batch_size=2))
    assert [[m.uid for m in batch] for batch in batches] == [[1, 2], [3, 4], [5]]
    assert batches[0][0].raw.startswith(b"From: a@example.org") and b"message 1" in batches[0][0].raw
    assert batches[0][0].size == len(_mail(1)) and batches[0][0].internal_date is not None


def test_fetching_sets_no_flag(stack, address):
    before = folder_flags(stack, address)
    with imap_session(stack, address) as client:
        folder_examine(client, "INBOX")
        fetch_messages(client, [1, 2, 3, 4, 5])
    after = folder_flags(stack, address)
    assert after == before and all(b"\\Seen" not in flags for flags in after.values())


def test_a_huge_message_is_cut_but_its_size_is_known(stack):
    address = unique_address("imap")
    big = _mail(1, "x" * 50_000)
    append(stack, address, big)
    with imap_session(stack, address) as client:
        folder_examine(client, "INBOX")
        (message,) = fetch_messages(client, [1], max_bytes=1_000)
    assert len(message.raw) == 1_000 and message.size == len(big)


def test_examining_a_missing_folder_raises_the_client_error(stack, address):
    with imap_session(stack, address) as client, pytest.raises(IMAPClientError):
        folder_examine(client, "No such folder")


def test_uids_in_runs_and_gaps_are_fetched_exactly(stack, address):
    with imap_session(stack, address) as client:
        folder_examine(client, "INBOX")
        assert [m.uid for m in fetch_headers(client, [1, 2, 3, 5])] == [1, 2, 3, 5]
        assert [m.uid for m in fetch_messages(client, [4, 40, 41])] == [4]  # 40 and 41 do not exist
        assert fetch_headers(client, [40]) == []


def test_headers_are_the_header_block_alone(stack, address):
    with imap_session(stack, address) as client:
        folder_examine(client, "INBOX")
        (head,) = fetch_headers(client, [2])
    assert head.headers_only and head.raw.endswith(b"\r\n\r\n") and b"Hello." not in head.raw
    assert b"Subject: message 2" in head.raw and head.size == len(_mail(2))


def test_a_refused_fetch_raises_the_client_error(stack, address):
    with imap_session(stack, address) as client, pytest.raises(IMAPClientError, match="fetch failed"):
        fetch_headers(client, [1])  # no folder selected
