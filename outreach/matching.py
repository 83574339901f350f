"""Tying inbound mail to our threads, a batch at a time (reads only; the syncer writes).

The order, strongest first, is :class:`outreach.choices.MatchMethod`'s: In-Reply-To, then
References (newest first), then the original Message-ID a bounce or complaint quotes, then
the thread token (the SEND side writes Message-IDs as ``<{token}.{random}@domain>`` and an
``X-LinkCRM-Thread: {token}`` header, both of which bounces often quote back), then the
sender (or a bounce's failed recipient) having a running enrollment.

Lookups are done once per batch, for every candidate the batch's raw bytes contain, so a
10,000-message sync makes a few queries per batch instead of several per message,
and the classifier is handed only the Message-IDs of ours that a message mentions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.db.models import F, Lookup
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower

from outreach.choices import RUNNING_ENROLLMENT, MatchMethod, MessageKind
from outreach.classify import Classification
from outreach.models import Enrollment, OutboundMessage

# Only the start of a message is searched for identifiers: a bounce quotes the original's
# headers near its top, and a 2 MB attachment must not cost a regular expression pass.
SCAN_BYTES = 300_000
THREAD_HEADER = "X-LinkCRM-Thread"
# The mail server's clock is not ours, and IMAP arrival times are whole seconds.
CLOCK_SLACK = timedelta(minutes=5)

_MSGID_RE = re.compile(rb"<([^<>\s@]{1,200}@[^<>\s@]{1,200})>")
# The header line, also when a bounce quotes it indented or behind "> ".
_THREAD_HEADER_RE = re.compile(rb"(?im)^[ \t>]*" + THREAD_HEADER.encode() + rb":[ \t]*([A-Za-z0-9]{6,24})\b")
_TOKEN_IN_ID_RE = re.compile(rb"([A-Za-z0-9]{6,24})\.")
_THREAD_HEADER_LOWER = THREAD_HEADER.lower().encode()


@dataclass(frozen=True)
class OurMessage:
    """One of our outbound messages, as far as matching needs it."""

    pk: int
    message_id: str
    enrollment_id: int | None
    prospect_id: int | None


class Candidates(NamedTuple):
    """What one raw message mentions that could be ours: Message-IDs and thread tokens.

    A named tuple rather than a frozen dataclass: one is made for every message a sync reads.
    """

    message_ids: frozenset[str]
    tokens: frozenset[str]


@dataclass(frozen=True)
class Match:
    """Why a message belongs to a thread (``method`` NONE: it does not, as far as we can tell)."""

    method: MatchMethod = MatchMethod.NONE
    detail: str = ""
    message: OurMessage | None = None
    enrollment: Enrollment | None = None
    prospect_id: int | None = None


NO_MATCH = Match()  # a message tied to no thread of ours


def candidates(raw: bytes) -> Candidates:
    """Message-IDs (header form) and thread tokens found in the first ``SCAN_BYTES`` of ``raw``."""
    head = raw[:SCAN_BYTES] if len(raw) > SCAN_BYTES else raw
    found = _MSGID_RE.findall(head)
    ids = frozenset(f"<{m.decode('latin-1')}>" for m in found)
    tokens = {m.group(1).decode("ascii").lower() for m in map(_TOKEN_IN_ID_RE.match, found) if m}
    # The header's name, lower-cased, is looked for first: one pass in C, where the
    # case-blind, line-anchored expression costs more than the rest of this for most mail.
    if _THREAD_HEADER_LOWER in head.lower():
        tokens.update(m.decode("ascii").lower() for m in _THREAD_HEADER_RE.findall(head))
    return Candidates(ids, frozenset(tokens))


@dataclass
class BatchLookup:
    """Our messages, enrollments by token and running enrollments by address, for one batch."""

    # The domains our Message-IDs are written under (every mailbox's address domain: see
    # headers.make_message_id): an ID under any other domain is not ours and is not looked up,
    # which keeps a batch's query to the IDs that could be (most IDs in a batch are other
    # people's own). None: every ID is looked up.
    id_domains: frozenset[str] | None = None
    ours: dict[str, OurMessage] = field(default_factory=dict)
    by_token: dict[str, Enrollment] = field(default_factory=dict)
    by_address: dict[str, Enrollment] = field(default_factory=dict)
    enrollments: dict[int, Enrollment] = field(default_factory=dict)
    # Everything already asked for (found or not), so a batch's second read asks only what is new.
    asked_ids: set[str] = field(default_factory=set)
    asked_tokens: set[str] = field(default_factory=set)
    asked_addresses: set[str] = field(default_factory=set)

    def our_ids_in(self, found: Candidates) -> frozenset[str]:
        """The Message-IDs of ours that one message mentions (what the classifier needs)."""
        return frozenset(i for i in found.message_ids if i in self.ours)

    def names_ours(self, found: Candidates) -> bool:
        """Whether one message mentions a Message-ID or thread token of ours (asked of every message)."""
        return not (self.ours.keys().isdisjoint(found.message_ids) and self.by_token.keys().isdisjoint(found.tokens))


def lookup_batch(found: Sequence[Candidates], lookup: BatchLookup | None = None) -> BatchLookup:
    """One query each for our Message-IDs and thread tokens mentioned anywhere in the batch.

    ``lookup``: one to add to (what it already asked is not asked again).
    """
    lookup = BatchLookup() if lookup is None else lookup
    lookup_message_ids(lookup, set().union(*(c.message_ids for c in found)) if found else set())
    tokens = (set().union(*(c.tokens for c in found)) if found else set()) - lookup.asked_tokens
    lookup.asked_tokens |= tokens
    if tokens:
        for enrollment in Enrollment.objects.select_related("contact", "sequence").filter(thread_token__in=tokens):
            lookup.by_token[enrollment.thread_token.lower()] = enrollment
            lookup.enrollments.setdefault(enrollment.pk, enrollment)
    return lookup


def lookup_message_ids(lookup: BatchLookup, ids: Iterable[str]) -> None:
    """Add those of ``ids`` that are our Message-IDs, with their enrollments, to ``lookup``."""
    domains = lookup.id_domains
    wanted = {i for i in ids if domains is None or _id_domain(i) in domains} - lookup.asked_ids
    lookup.asked_ids |= wanted
    if not wanted:
        return
    rows = OutboundMessage.objects.filter(_one_of(F("message_id"), wanted)).values_list(
        "pk", "message_id", "enrollment_id", "prospect_id"
    )
    found = [OurMessage(*row) for row in rows]
    lookup.ours.update({m.message_id: m for m in found})
    missing = {m.enrollment_id for m in found if m.enrollment_id and m.enrollment_id not in lookup.enrollments}
    if missing:
        lookup.enrollments.update(Enrollment.objects.select_related("contact", "sequence").in_bulk(missing))


def _id_domain(message_id: str) -> str:
    """``<left@Right.Example>`` → ``right.example``."""
    return message_id.rpartition("@")[2].rstrip(">").lower()


class _AnyOf(Lookup):
    """``lhs = ANY(rhs)``: true when the value is one of the array ``rhs``."""

    lookup_name = "any_of"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]


def _one_of(expression: Any, values: set[str]) -> _AnyOf:
    """A filter: ``expression`` is one of ``values``, sent as ONE bound parameter.

    A batch asks about hundreds of Message-IDs or addresses at once; as ``IN (%s, %s, …)``
    each is a parameter Django compiles and the driver quotes one by one, which costs more
    than the query. Message-IDs and addresses never hold a newline (candidates() and the
    address parser stop at whitespace), so one newline-joined string carries them all, and
    ``= ANY(array)`` lets PostgreSQL probe the column's index once per value instead of
    reading the whole table (as ``IN (SELECT unnest(…))`` led it to do for contacts).
    """
    array = RawSQL("string_to_array(%s, E'\\n')", ["\n".join(v for v in values if "\n" not in v)])
    return _AnyOf(expression, array)


def lookup_addresses(lookup: BatchLookup, addresses: Iterable[str], *, mailbox_id: int) -> None:
    """Add running enrollments whose contact is one of ``addresses`` (this mailbox's first, newest first)."""
    wanted = {a.lower() for a in addresses if a} - lookup.asked_addresses
    lookup.asked_addresses |= wanted
    if not wanted:
        return
    running = (
        Enrollment.objects.select_related("contact", "sequence")
        .annotate(address=Lower("contact__email"))
        .filter(_one_of(F("address"), wanted), status__in=RUNNING_ENROLLMENT)
        .order_by("enrolled_at", "pk")
    )
    for enrollment in running:  # later (newer) rows win; this mailbox's beat other mailboxes'
        current = lookup.by_address.get(enrollment.address)
        if current is None or enrollment.mailbox_id == mailbox_id or current.mailbox_id != mailbox_id:
            lookup.by_address[enrollment.address] = enrollment
        lookup.enrollments.setdefault(enrollment.pk, enrollment)


def addresses_to_look_up(verdict: Classification) -> list[str]:
    """The addresses whose running enrollment may identify the thread: sender, failed or complaining recipient."""
    if verdict.kind == MessageKind.BOUNCE:
        return list(verdict.failed_recipients)
    if verdict.kind == MessageKind.COMPLAINT:
        return [verdict.complained_recipient] if verdict.complained_recipient else []
    if verdict.kind in (MessageKind.REPLY, MessageKind.AUTO_REPLY):
        return [verdict.from_address] if verdict.from_address else []
    return []


def match_message(
    verdict: Classification, found: Candidates, lookup: BatchLookup, *, received_at: datetime | None = None
) -> Match:
    """The strongest reason ``verdict``'s message belongs to one of our threads, or no match.

    ``received_at`` (the server's arrival time) keeps old mail out of the sender match: a
    message a contact wrote before we enrolled them is not an answer to us.
    """
    if verdict.kind in (MessageKind.OWN, MessageKind.BULK):
        return NO_MATCH
    by_header = _by_thread_headers(verdict, lookup)
    if by_header is not None:
        return by_header
    original = verdict.original_message_id
    if original and original in lookup.ours:
        return _to_message(MatchMethod.ORIGINAL, f"quotes our Message-ID {original}", lookup.ours[original], lookup)
    for token in sorted(found.tokens):
        enrollment = lookup.by_token.get(token)
        if enrollment is not None:
            return Match(MatchMethod.TOKEN, f"thread token {token}", None, enrollment, enrollment.prospect_id)
    return _by_sender(verdict, lookup, received_at)


def _by_sender(verdict: Classification, lookup: BatchLookup, received_at: datetime | None) -> Match:
    for address in addresses_to_look_up(verdict):
        enrollment = lookup.by_address.get(address.lower())
        if enrollment is None or (received_at is not None and received_at < enrollment.enrolled_at - CLOCK_SLACK):
            continue
        role = "sender" if verdict.kind in (MessageKind.REPLY, MessageKind.AUTO_REPLY) else "recipient"
        return Match(MatchMethod.SENDER, f"{role} {address} has a running enrollment", None, enrollment,
                     enrollment.prospect_id)  # fmt: skip
    return NO_MATCH


def _by_thread_headers(verdict: Classification, lookup: BatchLookup) -> Match | None:
    for message_id in verdict.in_reply_to:
        if message_id in lookup.ours:
            return _to_message(MatchMethod.IN_REPLY_TO, f"In-Reply-To {message_id}", lookup.ours[message_id], lookup)
    for message_id in reversed(verdict.references):  # the newest reference is the closest
        if message_id in lookup.ours:
            return _to_message(MatchMethod.REFERENCES, f"References {message_id}", lookup.ours[message_id], lookup)
    return None


def _to_message(method: MatchMethod, detail: str, ours: OurMessage, lookup: BatchLookup) -> Match:
    enrollment = lookup.enrollments.get(ours.enrollment_id) if ours.enrollment_id else None
    return Match(method, detail, ours, enrollment, ours.prospect_id)
