"""classify_headers: the verdict on a header block is classify_message's, by the quick reader or not.

The reply sync stores most mail from its header block alone (docs/outreach.md), judged by
``classify_headers``; these tests hold it side by side with ``classify_message`` on the
same bytes, for every real sample's header block and for synthetic blocks of each rule.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from outreach.choices import MessageKind
from outreach.classify import body_may_matter, classify_headers, classify_message
from outreach.mailparts import HeaderBlock, header_values, parse_message

OURS = "outreach@linkcrm.example"
OUR_ID = "<tok123abc.1f2e@linkcrm.example>"


def _head(raw: bytes) -> bytes:
    """The header block of ``raw`` as an IMAP server returns BODY[HEADER] (CRLF, closing blank line)."""
    crlf = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    end = crlf.find(b"\r\n\r\n")
    return crlf[: end + 4] if end >= 0 else crlf


def _block(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


PLAIN = ("From: Jane Doe <jane@example.org>", "To: outreach@linkcrm.example", "Subject: Lunch on Friday?",
         "Date: Sat, 21 Nov 2026 10:00:00 +0000", "Message-ID: <lunch-1@example.org>")  # fmt: skip

SYNTHETIC = {
    "plain": _block(*PLAIN),
    "folded, encoded": _block(
        *PLAIN[:2],
        "Subject: =?utf-8?q?Caf=C3=A9?=\r\n =?utf-8?q?_au_lait?=",
        *PLAIN[3:],
        "References: <a@x.org>\r\n\t<b@y.org>",
        "In-Reply-To: <b@y.org>",
    ),
    "own by address": _block(f"From: {OURS}", *PLAIN[1:]),
    "own by message id": _block(*PLAIN[:4], f"Message-ID: {OUR_ID}"),
    "precedence bulk": _block(*PLAIN, "Precedence: bulk", "List-Id: <weekly.example.com>"),
    "list only": _block(*PLAIN, "List-Unsubscribe: <https://example.com/u>"),
    "list answering us": _block(*PLAIN, "List-Id: <l.example.com>", f"In-Reply-To: {OUR_ID}"),
    "auto-submitted": _block(*PLAIN, "Auto-Submitted: auto-replied"),
    "auto-submitted no": _block(*PLAIN, "Auto-Submitted: no"),
    "precedence auto_reply": _block(*PLAIN, "Precedence: auto_reply"),
    "delivered-to": _block(*PLAIN, "Delivered-To: outreach@linkcrm.example"),
    "out-of-office subject": _block(*PLAIN[:2], "Subject: Out of office", *PLAIN[3:]),
    "daemon": _block("From: MAILER-DAEMON@mx.example.org", *PLAIN[1:]),
    "report": _block(*PLAIN, "Content-Type: multipart/report; report-type=delivery-status; boundary=b"),
    "failed recipients": _block(*PLAIN, "X-Failed-Recipients: jane@example.org"),
    "no identity": _block("X-Spam: yes"),
    "no message id": _block(*PLAIN[:4]),
    "8-bit subject": ("\r\n".join((*PLAIN[:2], "Subject: Café", *PLAIN[3:])) + "\r\n\r\n").encode(),
    "mbox line": _block("From jane@example.org Sat Nov 21 10:00:00 2026", *PLAIN),
}


def _sample_heads(samples_dir: Path) -> list[tuple[str, bytes]]:
    return [(p.name, _head(p.read_bytes())) for p in sorted((samples_dir / "emails").glob("*/*.eml"))]


@pytest.mark.parametrize("name", sorted(SYNTHETIC))
def test_a_synthetic_header_block_gets_classify_messages_verdict(name):
    head = SYNTHETIC[name]
    kwargs = {"our_addresses": [OURS], "our_message_ids": [OUR_ID]}

    assert classify_headers(head, **kwargs) == classify_message(head, **kwargs)


def test_every_sample_header_block_gets_classify_messages_verdict(samples_dir):
    for name, head in _sample_heads(samples_dir):
        assert classify_headers(head, our_addresses=[OURS]) == classify_message(head, our_addresses=[OURS]), name


def test_the_quick_reader_decodes_headers_as_the_email_package_does(samples_dir):
    heads = [*_sample_heads(samples_dir), *SYNTHETIC.items()]
    read = 0
    for name, head in heads:
        block = HeaderBlock.parse(head)
        if block is None:
            continue
        read += 1
        msg = parse_message(head)
        for field in {k.lower() for k in msg}:
            assert block.values(field) == header_values(msg, field), (name, field)
    assert read > len(heads) // 2  # most real header blocks are read without the email package


def test_unusual_header_blocks_are_left_to_the_email_package():
    assert HeaderBlock.parse(SYNTHETIC["8-bit subject"]) is None
    assert HeaderBlock.parse(SYNTHETIC["mbox line"]) is None
    assert HeaderBlock.parse(b" continued first line\r\nFrom: a@b.c\r\n\r\n") is None


def test_plain_mail_is_judged_by_the_quick_reader_alone(monkeypatch):
    import outreach.classify as classify

    def refuse(*args, **kwargs):
        raise AssertionError("plain mail must not need the email package")

    monkeypatch.setattr(classify, "classify_message", refuse)

    verdict = classify_headers(SYNTHETIC["plain"])
    assert (verdict.kind, verdict.from_address, verdict.message_id) == (
        MessageKind.REPLY, "jane@example.org", "<lunch-1@example.org>")  # fmt: skip


@pytest.mark.parametrize(("name", "matters"), [
    ("plain", False), ("precedence bulk", False), ("auto-submitted", False), ("own by address", False),
    ("daemon", True), ("report", True), ("failed recipients", True), ("out-of-office subject", True),
    ("8-bit subject", True),
])  # fmt: skip
def test_the_body_matters_for_bounce_report_and_out_of_office_shapes(name, matters):
    assert body_may_matter(HeaderBlock.parse(SYNTHETIC[name])) is matters


def test_a_bounce_subject_alone_makes_the_body_matter():
    head = _block(*PLAIN[:2], "Subject: Undeliverable: A link for your readers", *PLAIN[3:])

    assert classify_headers(head).kind == MessageKind.REPLY  # the headers alone cannot tell
    assert body_may_matter(HeaderBlock.parse(head))
