"""What an inbound message is: a person's reply, an auto-reply, a bounce, a complaint, bulk
mail, or our own message come back.

``classify_message`` decides in this order; the first rule that holds wins (why, in
docs/classification.md):

1. not an email at all (empty, no From/To/Subject/Date/Message-ID) → ``unknown``, malformed;
2. our own message (its Message-ID is ours, or it is From one of our addresses) → ``own``;
3. an ARF feedback report → ``complaint``;
4. a delivery-status report with a failed or delayed recipient, or a plain-text bounce of a
   known server → ``bounce``; a delivery-status report of success only → ``unknown``;
5. an auto-reply header (Auto-Submitted, X-Autoreply, X-Auto-Response-Suppress …) →
   ``auto_reply``;
6. two weak signals, one of them textual (out-of-office subject, out-of-office text in the
   sender's own words, null Return-Path, Precedence: bulk/junk/list) → ``auto_reply``;
7. Precedence: bulk/junk/list, or List-Id / List-Unsubscribe on a message that does not
   answer one of ours → ``bulk``;
8. anything else → ``reply``.

It never raises on bad input and does no I/O.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from email.message import Message
from typing import TypedDict

from outreach.autoreply import (
    AUTO_HEADERS,
    apple_return_date,
    body_signal,
    bulk_precedence,
    header_signal,
    reference_date,
    return_date,
    subject_signal,
)
from outreach.bounces import (
    BOUNCE_SUBJECT,
    DAEMON_SENDER,
    Bounce,
    BouncedRecipient,
    original_message_id,
    parse_bounce,
    success_report_action,
)
from outreach.choices import MessageKind
from outreach.mailparts import (
    HeaderBlock,
    addresses,
    attached_headers,
    bare_id,
    first_address,
    header_text,
    header_values,
    message_ids,
    own_parts,
    parse_message,
    readable_text,
    unquoted,
)

logger = logging.getLogger(__name__)

_IDENTITY_HEADERS = ("From", "To", "Subject", "Date", "Message-ID")
# Headers without which a header block has no auto-reply or bounce header signal.
_SIGNAL_HEADERS = frozenset({"x-failed-recipients", "auto-submitted", *(name.lower() for name, _ in AUTO_HEADERS)})
# Content types whose header block alone cannot be a report, a bounce or a complaint.
_PLAIN_TYPES = frozenset({"", "text/plain", "text/html", "multipart/alternative", "multipart/mixed",
                          "multipart/related", "multipart/signed"})  # fmt: skip


class _Facts(TypedDict):
    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    from_address: str | None
    subject: str


@dataclass(frozen=True)
class Classification:
    """The verdict on one inbound message, with the facts the inbox and outbox need.

    Message-IDs are in header form (``<id@host>``); addresses are lower-cased. Bounce fields
    describe the first failed recipient (``bounced`` has every one); ``permanent`` is True
    only when that address should be suppressed (False for transient and infrastructure
    failures, None when the bounce does not say).
    """

    kind: MessageKind
    reason: str
    malformed: bool = False
    message_id: str | None = None
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    from_address: str | None = None
    subject: str = ""
    # bounces
    failed_recipients: tuple[str, ...] = ()
    permanent: bool | None = None
    status_code: str | None = None
    diagnostic: str = ""
    infrastructure: bool = False
    bounced: tuple[BouncedRecipient, ...] = ()
    # bounces and complaints: the message of ours they are about
    original_message_id: str | None = None
    # auto-replies
    return_date: date | None = None
    # complaints
    complained_recipient: str | None = None
    feedback_type: str | None = None


def classify_message(
    raw: bytes,
    *,
    our_addresses: Collection[str] = (),
    our_message_ids: Collection[str] = (),
    received_at: datetime | None = None,
    parsed: Message | None = None,
) -> Classification:
    """Classify one raw RFC 5322 message (see the module docstring for the rules).

    ``our_addresses``: the mailbox addresses we send from; ``our_message_ids``: Message-IDs of
    messages we sent (with or without angle brackets), to recognise our own mail and to find
    which of ours a bounce or complaint is about; ``received_at``: when the message arrived,
    the reference for return dates stated without a year (default: its Date header);
    ``parsed``: ``parse_message(raw)`` when the caller has it already.
    """
    try:
        return _classify(raw, our_addresses, our_message_ids, received_at, parsed)
    except Exception as exc:  # a classifier bug must not stop an inbox sync; it is logged
        logger.exception("could not classify a message")
        return Classification(
            MessageKind.UNKNOWN, f"could not be parsed ({type(exc).__name__})", malformed=True
        )


def classify_headers(
    head: bytes,
    *,
    our_addresses: Collection[str] = (),
    our_message_ids: Collection[str] = (),
    received_at: datetime | None = None,
    block: HeaderBlock | None = None,
) -> Classification:
    """``classify_message`` of a header block (a message without its body), the same verdict, faster.

    Plain mail — no auto-reply, bounce, report or list signal in its headers, which is most of
    a mailbox — is judged here from a quick read of the header lines; everything else goes
    through ``classify_message``. Either way the answer is what ``classify_message(head, …)``
    answers (tests/outreach/test_classify_headers.py holds the two side by side). ``block``:
    ``HeaderBlock.parse(head)`` when the caller has it already.
    """
    block = HeaderBlock.parse(head) if block is None else block
    verdict = _plain_verdict(block, our_addresses, our_message_ids) if block is not None else None
    if verdict is not None:
        return verdict
    return classify_message(head, our_addresses=our_addresses, our_message_ids=our_message_ids, received_at=received_at)


def _plain_verdict(
    block: HeaderBlock, our_addresses: Collection[str], our_message_ids: Collection[str]
) -> Classification | None:
    """Rules 2, 7 and 8 for a header block with no other signal; None when a fuller look is needed."""
    ctype = block.text("Content-Type").split(";", 1)[0].strip().lower()
    if ctype not in _PLAIN_TYPES or (block.has_any(_SIGNAL_HEADERS) and _signal(block)):
        return None
    if not any(block.text(name) for name in _IDENTITY_HEADERS):
        return None
    subject = block.text("Subject")
    if subject_signal(subject) or DAEMON_SENDER.search(block.text("From")):
        return None
    facts = _block_facts(block)
    ours = _normalised(our_addresses)
    our_ids = {bare_id(i) for i in our_message_ids}
    own = _own_reason(facts, ours, our_ids)
    if own is not None:
        return Classification(MessageKind.OWN, own, **facts)
    precedence = bulk_precedence(block)
    if precedence:
        return Classification(MessageKind.BULK, f"Precedence: {precedence} (bulk or list mail)", **facts)
    answers_us = any(bare_id(i) in our_ids for i in (*facts["in_reply_to"], *facts["references"]))
    for name in ("List-Id", "List-Unsubscribe"):
        if block.text(name) and not answers_us:
            return Classification(MessageKind.BULK, f"{name} header (mailing list or newsletter)", **facts)
    return Classification(MessageKind.REPLY, "no automatic, delivery or list signals", **facts)


def _signal(block: HeaderBlock) -> bool:
    return block.has("X-Failed-Recipients") or header_signal(block) is not None


def body_may_matter(block: HeaderBlock | None) -> bool:
    """Whether a message's body could make its verdict differ from its header block's.

    True for anything shaped like a report, bounce or complaint by its headers (a report or
    message/* content type, a mail-daemon sender, a bounce subject, X-Failed-Recipients),
    for an out-of-office subject (the body's text may be the second signal that makes an
    auto-reply), and for header blocks the quick reader leaves to the email package.
    """
    if block is None:
        return True
    ctype = block.text("Content-Type").split(";", 1)[0].strip().lower()
    subject = block.text("Subject")
    return (
        ctype not in _PLAIN_TYPES
        or block.has("X-Failed-Recipients")
        or bool(DAEMON_SENDER.search(block.text("From")))
        or bool(BOUNCE_SUBJECT.search(subject))
        or subject_signal(subject)
    )


def _block_facts(block: HeaderBlock) -> _Facts:
    """``_facts`` of a header block."""
    references = tuple(i for value in block.values("References") for i in message_ids(value))
    own_ids = message_ids(block.text("Message-ID"))
    return _Facts(
        message_id=own_ids[0] if own_ids else None,
        in_reply_to=message_ids(block.text("In-Reply-To")),
        references=tuple(dict.fromkeys(references)),
        from_address=first_address(block.text("From")),
        subject=block.text("Subject"),
    )


def _classify(
    raw: bytes,
    our_addresses: Collection[str],
    our_message_ids: Collection[str],
    received_at: datetime | None,
    parsed: Message | None,
) -> Classification:
    if not raw.strip():
        return Classification(MessageKind.UNKNOWN, "empty message", malformed=True)
    msg = parse_message(raw) if parsed is None else parsed
    if not any(header_text(msg, name) for name in _IDENTITY_HEADERS):
        return Classification(
            MessageKind.UNKNOWN,
            "not an email message (no From, To, Subject, Date or Message-ID header)",
            malformed=True,
        )
    facts = _facts(msg)
    ours = _normalised(our_addresses)
    own = _own_reason(facts, ours, {bare_id(i) for i in our_message_ids})
    if own is not None:
        return Classification(MessageKind.OWN, own, **facts)
    complaint = _complaint(msg, facts, our_message_ids)
    if complaint is not None:
        return complaint
    exclude = ours | set(addresses(header_text(msg, "To"))) | set(addresses(header_text(msg, "From")))
    bounce = parse_bounce(msg, exclude=exclude, our_message_ids=our_message_ids)
    if bounce is not None:
        return _bounce_classification(bounce, facts)
    action = success_report_action(msg)
    if action is not None:
        return Classification(
            MessageKind.UNKNOWN, f"delivery-status report without a failure (Action: {action})", **facts
        )
    return _human_or_automatic(msg, facts, our_message_ids, received_at)


def _facts(msg: Message) -> _Facts:
    """The threading and identity facts every classification carries."""
    references = tuple(i for value in header_values(msg, "References") for i in message_ids(value))
    own_ids = message_ids(header_text(msg, "Message-ID"))
    return _Facts(
        message_id=own_ids[0] if own_ids else None,
        in_reply_to=message_ids(header_text(msg, "In-Reply-To")),
        references=tuple(dict.fromkeys(references)),
        from_address=first_address(header_text(msg, "From")),
        subject=header_text(msg, "Subject"),
    )


def _normalised(addresses: Collection[str]) -> frozenset[str]:
    """``addresses`` stripped and lower-cased; a syncer's one frozenset of every message is done once."""
    if isinstance(addresses, frozenset):
        return _normalised_set(addresses)
    return frozenset(a.strip().lower() for a in addresses)


@functools.lru_cache(maxsize=16)
def _normalised_set(addresses: frozenset[str]) -> frozenset[str]:
    return frozenset(a.strip().lower() for a in addresses)


def _own_reason(facts: _Facts, ours: Collection[str], our_ids: set[str]) -> str | None:
    if facts["message_id"] and bare_id(facts["message_id"]) in our_ids:
        return f"Message-ID {facts['message_id']} is one we sent"
    if facts["from_address"] and facts["from_address"] in ours:
        return f"From {facts['from_address']} is one of our addresses"
    return None


def _complaint(msg: Message, facts: _Facts, our_message_ids: Collection[str]) -> Classification | None:
    """An ARF (RFC 5965) feedback report, or None."""
    report = next((p for p in own_parts(msg) if p.get_content_type() == "message/feedback-report"), None)
    is_arf = msg.get_content_type() == "multipart/report" and _report_type(msg) == "feedback-report"
    if report is None and not is_arf:
        return None
    payload = report.get_payload() if report is not None else None
    fields = payload[0] if isinstance(payload, list) and payload and isinstance(payload[0], Message) else None
    feedback_type = header_text(fields, "Feedback-Type").lower() if fields is not None else ""
    recipient = first_address(header_text(fields, "Original-Rcpt-To")) if fields is not None else None
    if recipient is None:
        original = attached_headers(msg)
        recipient = first_address(header_text(original, "To")) if original is not None else None
    return Classification(
        MessageKind.COMPLAINT,
        f"ARF feedback report (Feedback-Type: {feedback_type or 'not stated'})",
        **facts,
        original_message_id=original_message_id(msg, our_message_ids=our_message_ids),
        complained_recipient=recipient,
        feedback_type=feedback_type or None,
    )


def _report_type(msg: Message) -> str:
    try:
        return str(msg.get_param("report-type") or "").lower()
    except Exception:  # a Content-Type whose parameters cannot be parsed
        return ""


def _bounce_classification(bounce: Bounce, facts: _Facts) -> Classification:
    first = bounce.recipients[0] if bounce.recipients else None
    return Classification(
        MessageKind.BOUNCE,
        bounce.reason,
        **facts,
        failed_recipients=tuple(r.address for r in bounce.recipients),
        permanent=first.permanent if first else None,
        status_code=first.status_code if first else None,
        diagnostic=first.diagnostic if first else "",
        infrastructure=first.infrastructure if first else False,
        bounced=bounce.recipients,
        original_message_id=bounce.original_message_id,
    )


def _human_or_automatic(
    msg: Message, facts: _Facts, our_message_ids: Collection[str], received_at: datetime | None
) -> Classification:
    """Rules 5 to 8: auto-reply headers, weak auto-reply signals, bulk mail, else a reply."""
    own_text = unquoted(readable_text(msg))
    subject = facts["subject"]
    header = header_signal(msg)
    weak = _weak_signals(msg, subject, own_text)
    textual = {"out-of-office subject", "out-of-office text"} & set(weak)
    if header is not None or (textual and len(weak) >= 2):
        reference = reference_date(received_at, msg)
        back = apple_return_date(msg) or return_date(f"{subject}\n{own_text}", reference=reference)
        reason = header if header is not None else " and ".join(weak)
        return Classification(MessageKind.AUTO_REPLY, reason, **facts, return_date=back)
    bulk = _bulk_reason(msg, facts, {bare_id(i) for i in our_message_ids})
    if bulk is not None:
        return Classification(MessageKind.BULK, bulk, **facts)
    reason = "no automatic, delivery or list signals"
    if textual:
        reason += f" ({' and '.join(sorted(textual))} alone is not enough to call it automatic)"
    return Classification(MessageKind.REPLY, reason, **facts)


def _weak_signals(msg: Message, subject: str, own_text: str) -> list[str]:
    signals = []
    if subject_signal(subject):
        signals.append("out-of-office subject")
    if body_signal(own_text):
        signals.append("out-of-office text")
    if header_values(msg, "Return-Path") in ([""], ["<>"]):
        signals.append("null Return-Path")
    precedence = bulk_precedence(msg)
    if precedence:
        signals.append(f"Precedence: {precedence}")
    return signals


def _bulk_reason(msg: Message, facts: _Facts, our_ids: set[str]) -> str | None:
    precedence = bulk_precedence(msg)
    if precedence:
        return f"Precedence: {precedence} (bulk or list mail)"
    answers_us = any(bare_id(i) in our_ids for i in (*facts["in_reply_to"], *facts["references"]))
    for name in ("List-Id", "List-Unsubscribe"):
        if header_text(msg, name) and not answers_us:
            return f"{name} header (mailing list or newsletter)"
    return None
