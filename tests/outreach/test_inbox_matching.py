"""What the matcher finds in raw mail: our Message-IDs and thread tokens, wherever a bounce quotes them."""

from __future__ import annotations

from outreach.matching import candidates


def test_message_ids_are_found_in_headers_and_quoted_text():
    raw = (b"Message-ID: <theirs@example.org>\r\nIn-Reply-To: <abc123def456.77aa@linkcrm.test>\r\n\r\n"
           b"> Message-Id: <quoted@linkcrm.test>\r\n<not an id> <br>\r\n")  # fmt: skip

    found = candidates(raw)

    assert found.message_ids == {"<theirs@example.org>", "<abc123def456.77aa@linkcrm.test>", "<quoted@linkcrm.test>"}


def test_thread_tokens_come_from_the_header_and_from_our_message_id_shape():
    raw = (b"Subject: Undelivered\r\n\r\n  X-LinkCRM-Thread: AbC123dEf456\r\n"
           b"> x-linkcrm-thread: 0011223344ff\r\nReferences: <feedfacecafe.9f9f@linkcrm.test>\r\n")  # fmt: skip

    assert candidates(raw).tokens == {"abc123def456", "0011223344ff", "feedfacecafe"}


def test_only_the_start_of_a_huge_message_is_scanned():
    from outreach.matching import SCAN_BYTES

    raw = b"Subject: big\r\n\r\n" + b"x" * SCAN_BYTES + b"<late@linkcrm.test>"

    assert candidates(raw).message_ids == frozenset()


def test_a_message_names_ours_by_one_of_our_message_ids_or_thread_tokens():
    from outreach.matching import BatchLookup, OurMessage

    ours = "<abc123def456.1@linkcrm.test>"
    lookup = BatchLookup(ours={ours: OurMessage(1, ours, None, None)}, by_token={"feedfacecafe": object()})

    assert lookup.names_ours(candidates(b"In-Reply-To: <abc123def456.1@linkcrm.test>\r\n\r\n"))
    assert lookup.names_ours(candidates(b"X-LinkCRM-Thread: FEEDFACECAFE\r\n\r\n"))
    assert not lookup.names_ours(candidates(b"In-Reply-To: <abc123def456.2@linkcrm.test>\r\n\r\n"))
    assert not lookup.names_ours(candidates(b"Subject: hello\r\n\r\n"))
