"""The reply sync's first look at a message (outreach.screening): what the whole header block would say."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from outreach.classify import body_may_matter
from outreach.imap import FetchedMessage
from outreach.mailparts import HeaderBlock, first_address
from outreach.matching import candidates
from outreach.screening import screen
from tests.outreach.test_classify_headers import SYNTHETIC, _head

EXTRA = {
    "folded from": b"From: Jane\r\n <jane@example.org>\r\nSubject: Hi\r\n\r\n",
    "field names inside values": b"Subject: From: x@y.z\r\nX-From: a@b.c\r\nFrom-Extra: c@d.e\r\n\r\n",
    "upper-case names": b"FROM: Jane <JANE@example.org>\r\nCONTENT-TYPE: multipart/report\r\n\r\n",
    "twice": b"Subject: first\r\nSubject: second\r\nFrom: a@b.c\r\n\r\n",
    "thread header lower-case": b"From: a@b.c\r\nx-linkcrm-thread: abcdef123456\r\n\r\n",
}


def _heads(samples_dir: Path) -> list[tuple[str, bytes]]:
    samples = [(p.name, _head(p.read_bytes())) for p in sorted((samples_dir / "emails").glob("*/*.eml"))]
    return [*samples, *SYNTHETIC.items(), *EXTRA.items()]


def _fetched(raw: bytes, *, headers_only: bool = True) -> FetchedMessage:
    return FetchedMessage(uid=1, raw=raw, size=len(raw), internal_date=datetime(2026, 11, 21, tzinfo=UTC),
                          headers_only=headers_only)  # fmt: skip


def test_the_first_look_finds_what_the_whole_block_would(samples_dir):
    heads = _heads(samples_dir)
    for (name, head), screened in zip(heads, screen([_fetched(h) for _, h in heads]), strict=True):
        whole = HeaderBlock.parse(head)
        assert screened.found == candidates(head), name
        assert (screened.block is None) == (whole is None), name
        assert screened.body_may_matter == body_may_matter(whole), name
        assert screened.sender == (first_address(whole.text("From")) if whole else None), name


def test_a_message_read_whole_gets_only_its_candidates():
    raw = SYNTHETIC["plain"] + b"Quoting <tok123abc.99@linkcrm.example>\r\n"
    (screened,) = screen([_fetched(raw, headers_only=False)])
    assert (screened.block, screened.sender, screened.body_may_matter) == (None, None, True)
    assert "<tok123abc.99@linkcrm.example>" in screened.found.message_ids and "tok123abc" in screened.found.tokens


def test_candidates_find_the_thread_header_whatever_its_case():
    assert candidates(EXTRA["thread header lower-case"]).tokens == {"abcdef123456"}
    assert candidates(b"From: a@b.c\r\n> X-LINKCRM-THREAD: QWERTY12\r\n\r\n").tokens == {"qwerty12"}
    assert candidates(b"From: a@b.c\r\nSubject: about linkcrm threads\r\n\r\n").tokens == frozenset()
