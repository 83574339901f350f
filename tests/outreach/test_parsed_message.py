"""Sealed parsed messages (outreach.mailparts.ParsedMessage): the same answers, remembered."""

from __future__ import annotations

from pathlib import Path

import pytest

import outreach.mailparts as mailparts
from outreach.classify import classify_message
from outreach.inbound import message_facts
from outreach.mailparts import ParsedMessage, header_values, parse_message, readable_text

RAW = (
    b"From: Jane <jane@example.org>\r\nTo: me@example.net\r\nSubject: Hello\r\n"
    b"Message-ID: <a1@example.org>\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/alternative; boundary="B"\r\n\r\n'
    b"--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHi there\r\n"
    b"--B\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hi <b>there</b></p>\r\n--B--\r\n"
)


def _answers(msg) -> list[object]:
    """Everything the classifier asks of a message and its parts."""
    answers: list[object] = [readable_text(msg)]
    for part in msg.walk():
        names = sorted({name.lower() for name in part})
        answers += [part.get_content_type(), part.get_content_maintype(), part.get_param("charset"),
                    part.get_param("boundary", "none"), part.get_param("report-type", failobj="absent"),
                    [(name, header_values(part, name)) for name in names]]  # fmt: skip
    return answers


def _unsealed(raw: bytes, monkeypatch) -> object:
    with monkeypatch.context() as patch:
        patch.setattr(mailparts, "seal", lambda msg: msg)
        msg = parse_message(raw)
    assert isinstance(msg, ParsedMessage) and msg._memo is None
    return msg


def _sample_files(samples_dir: Path) -> list[Path]:
    return sorted((samples_dir / "emails").glob("*/*.eml"))


def test_every_sample_reads_the_same_sealed_and_unsealed(samples_dir, monkeypatch):
    files = _sample_files(samples_dir)
    assert files
    for path in files:
        raw = path.read_bytes()
        sealed, plain = parse_message(raw), _unsealed(raw, monkeypatch)
        assert sealed._memo is not None, path.name
        assert _answers(sealed) == _answers(plain), path.name
        # Asked a second time, a sealed message answers from its memo, the same.
        assert _answers(sealed) == _answers(plain), path.name
        assert classify_message(raw, parsed=sealed) == classify_message(raw, parsed=plain), path.name
        assert message_facts(sealed) == message_facts(plain), path.name


def test_every_part_and_attached_message_is_sealed(samples_dir):
    for path in _sample_files(samples_dir):
        msg = parse_message(path.read_bytes())
        assert all(part._memo is not None for part in msg.walk() if isinstance(part, ParsedMessage)), path.name


def test_a_sealed_message_remembers_its_answers():
    msg = parse_message(RAW)
    assert msg.get_content_type() == "multipart/alternative"
    assert header_values(msg, "Subject") == ["Hello"]
    # Written behind the public API's back, the change is not seen: the answers come from the memo.
    msg._headers[:] = [(k, "text/plain" if k == "Content-Type" else v) for k, v in msg._headers]
    assert msg.get_content_type() == "multipart/alternative"


def test_changing_a_sealed_message_drops_its_memo():
    msg = parse_message(RAW)
    assert (msg.get_content_type(), msg.get_param("boundary")) == ("multipart/alternative", "B")
    assert header_values(msg, "Comments") == []
    msg.replace_header("Content-Type", 'multipart/mixed; boundary="C"')
    msg["Comments"] = "Second"
    assert (msg.get_content_type(), msg.get_param("boundary")) == ("multipart/mixed", "C")
    assert header_values(msg, "Comments") == ["Second"]
    text = msg.get_payload()[0]
    assert readable_text(text).strip() == "Hi there"
    text.set_payload("Changed\r\n")
    assert readable_text(text).strip() == "Changed"


def test_a_callers_change_to_an_answer_is_not_remembered():
    msg = parse_message(RAW)
    header_values(msg, "To").append("someone@else.test")
    assert header_values(msg, "To") == ["me@example.net"]


@pytest.mark.parametrize("failobj", [None, "absent", ()])
def test_a_missing_parameter_gives_each_caller_its_own_fallback(failobj):
    msg = parse_message(RAW)
    assert msg.get_param("report-type") is None
    assert msg.get_param("report-type", failobj) is failobj
    assert msg.get_param("report-type", failobj=failobj) is failobj
