"""Outbound headers: no injection anywhere, unique Message-IDs, threading, signed one-click unsubscribe."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime

import pytest
from django.core import signing

from outreach.headers import (
    HeaderInjectionError,
    Mailbox,
    OutboundMessage,
    build_message,
    check_header_value,
    make_message_id,
    reply_subject,
    sign_unsubscribe,
    thread_headers,
    verify_unsubscribe,
)
from outreach.rendering import TemplateRenderError, render_email, sample_context

WHEN = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _message(**changes) -> OutboundMessage:
    fields = {
        "sender": Mailbox("sam@acme.example.com", "Sam Sender"),
        "recipient": Mailbox("jane@example.org", "Jane Doe"),
        "subject": "A resource for your readers",
        "text": "Hello Jane",
        "message_id": make_message_id("acme.example.com"),
        "date": WHEN,
    }
    return OutboundMessage(**{**fields, **changes})


@pytest.mark.parametrize(
    "bad", ["a\r\nBcc: x@example.net", "a\nb", "a\rb", "a\x00b", "a\tb", "a\x7fb", "a\u2028b"]
)
def test_check_header_value_refuses_control_characters_naming_the_header(bad):
    with pytest.raises(HeaderInjectionError, match="header 'Subject'"):
        check_header_value("Subject", bad)
    assert check_header_value("Subject", "Ünïcode is fine — really") == "Ünïcode is fine — really"


@pytest.mark.parametrize(
    ("field", "value", "header"),
    [
        ("subject", "Hi\r\nBcc: victim@example.net", "Subject"),
        ("sender", Mailbox("sam@acme.example.com", "Sam\r\nBcc: victim@example.net"), "From"),
        ("recipient", Mailbox("jane@example.org", "Jane\nBcc: victim@example.net"), "To"),
        ("recipient", Mailbox("jane@example.org\r\nBcc: victim@example.net"), "To"),
        ("message_id", "<a@b>\r\nBcc: victim@example.net", "Message-ID"),
        ("previous_message_ids", ["<a@b>\nBcc: victim@example.net"], "References"),
        ("unsubscribe_url", "https://crm.example.com/u/x\r\nBcc: victim@example.net", "List-Unsubscribe"),
    ],
)
def test_build_message_refuses_injection_in_every_header(field, value, header):
    with pytest.raises(HeaderInjectionError, match=f"header '{header}'"):
        build_message(_message(**{field: value}))


def test_a_rendered_subject_cannot_inject_headers():
    prospect = {"title": "Hi\r\nBcc: victim@example.net", "domain": "", "url": ""}
    context = {**sample_context(), "prospect": prospect}
    with pytest.raises(TemplateRenderError, match="one line"):
        render_email({"subject": "{{ prospect.title }}", "text": "x"}, context)


def test_message_ids_are_unique_random_and_carry_no_personal_data():
    ids = {make_message_id("Acme.Example.com") for _ in range(1000)}
    assert len(ids) == 1000
    for message_id in ids:
        assert re.fullmatch(r"<[0-9a-f]{32}@acme\.example\.com>", message_id)
    for bad in ("", "exa mple.com", "a\r\nb.com", "-bad.com"):
        with pytest.raises(ValueError, match="Message-ID"):
            make_message_id(bad)


def test_thread_headers_and_reply_subject():
    assert thread_headers([]) == {}
    assert thread_headers(["<1@a>", "<2@a>"]) == {"In-Reply-To": "<2@a>", "References": "<1@a> <2@a>"}
    assert reply_subject("Hello") == "Re: Hello"
    assert reply_subject("Re: Hello") == "Re: Hello"
    assert reply_subject("RE: re:Re : Hello") == "Re: Hello"
    assert reply_subject("Fwd: AW: Hello") == "Re: Hello"
    assert reply_subject("Regarding links") == "Re: Regarding links"


def test_build_message_headers_and_parts_survive_a_round_trip():
    first, second = make_message_id("acme.example.com"), make_message_id("acme.example.com")
    mime = build_message(_message(
        subject="Re: A resource",
        html="<p>Hello Jane</p>",
        previous_message_ids=[first, second],
        unsubscribe_url="https://crm.example.com/u/token/",
    ))
    parsed = email.message_from_bytes(mime.as_bytes(), policy=email.policy.default)
    assert parsed["From"] == "Sam Sender <sam@acme.example.com>"
    assert parsed["To"] == "Jane Doe <jane@example.org>"
    assert parsed["Subject"] == "Re: A resource"
    assert parsed["Date"] == "Mon, 02 Mar 2026 09:30:00 +0000"
    assert parsed["In-Reply-To"] == second
    assert parsed["References"] == f"{first} {second}"
    assert parsed["List-Unsubscribe"] == "<https://crm.example.com/u/token/>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed.get_body(("plain",)).get_content().strip() == "Hello Jane"
    assert parsed.get_body(("html",)).get_content().strip() == "<p>Hello Jane</p>"


def test_a_first_message_without_html_or_unsubscribe_has_no_such_headers():
    mime = build_message(_message())
    assert mime.get_content_type() == "text/plain"
    for name in ("In-Reply-To", "References", "List-Unsubscribe", "List-Unsubscribe-Post"):
        assert name not in mime
    with pytest.raises(ValueError, match="timezone"):
        build_message(_message(date=datetime(2026, 3, 2, 9, 30)))  # noqa: DTZ001


def test_unsubscribe_tokens_round_trip_and_tampering_is_detected():
    token = sign_unsubscribe(42, 7)
    assert verify_unsubscribe(token) == (42, 7)
    assert re.fullmatch(r"[A-Za-z0-9_\-:.]+", token)  # safe in a URL path
    payload, _, signature = token.partition(":")
    forged = signing.dumps([43, 7], salt="some.other.salt")
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (f"{payload}x:{signature}", flipped, forged, "garbage"):
        with pytest.raises(signing.BadSignature):
            verify_unsubscribe(bad)
