"""Reading a watched IMAP folder without changing it: EXAMINE, UID SEARCH, FETCH BODY.PEEK.

The protocol half of the reply syncer (the service half is ``outreach.services.inbox``). A
folder is always opened read-only (EXAMINE) and messages are fetched with ``BODY.PEEK``, so
the server never sets ``\\Seen`` or any other flag: the mailbox owner's mail client shows
every message exactly as before we read it. Only UIDs above the last one seen are fetched,
in batches, so a sync costs what is new, not what the folder holds. The syncer reads the
headers of every new message first (``fetch_headers``) and whole messages only for the few
whose headers say the body matters (``fetch_messages``). A FETCH answer is read straight
from the connection (``_uid_fetch``) and its lines with a few regular expressions
(``read_fetch_answer``): imaplib's line handling and imapclient's general parser cost more
than the server's work, so the general parser only reads answers of an unusual shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError
from imapclient.response_parser import parse_fetch_response

from outreach.mailparts import datetime_from_fields

# Octets of a message fetched at most: classification reads headers and the first text;
# a 30 MB attachment would only cost memory and time.
DEFAULT_MAX_BYTES = 2_000_000


@dataclass(frozen=True)
class FolderStatus:
    """What EXAMINE said about a folder: its UIDVALIDITY and how many messages it holds."""

    name: str
    uidvalidity: int
    exists: int


@dataclass(frozen=True)
class FetchedMessage:
    """One message as read from the server: its UID, raw bytes (maybe cut), full size, arrival.

    ``headers_only``: ``raw`` is the header block alone (ending with its blank line).
    """

    uid: int
    raw: bytes
    size: int
    internal_date: datetime | None
    headers_only: bool = False


def folder_examine(client: IMAPClient, folder: str) -> FolderStatus:
    """Open ``folder`` read-only (IMAP EXAMINE): nothing we do afterwards can change a flag."""
    info = client.select_folder(folder, readonly=True)
    return FolderStatus(name=folder, uidvalidity=int(info[b"UIDVALIDITY"]), exists=int(info.get(b"EXISTS", 0)))


def uids_after(client: IMAPClient, last_uid: int) -> list[int]:
    """UIDs above ``last_uid`` in the selected folder, ascending.

    ``UID SEARCH UID n:*`` always answers the highest UID even when it is below ``n`` (RFC
    3501 §6.4.8: ``*`` is the largest UID in use), so the answer is filtered again here.
    """
    found = client.search(["UID", f"{last_uid + 1}:*"])
    return sorted(uid for uid in found if uid > last_uid)


def fetch_messages(
    client: IMAPClient, uids: Sequence[int], *, max_bytes: int = DEFAULT_MAX_BYTES
) -> list[FetchedMessage]:
    """The messages ``uids`` of the selected folder (one FETCH), in UID order; never sets \\Seen.

    ``BODY.PEEK[]<0.max_bytes>`` returns at most ``max_bytes`` octets of each message and,
    unlike ``BODY[]``, leaves its flags alone. UIDs expunged meanwhile are simply absent.
    """
    return _fetch(client, uids, f"BODY.PEEK[]<0.{max_bytes}>", (b"BODY[]<0>", b"BODY[]"), headers_only=False)


def fetch_headers(client: IMAPClient, uids: Sequence[int]) -> list[FetchedMessage]:
    """The header blocks of messages ``uids`` of the selected folder (one FETCH), in UID order.

    ``BODY.PEEK[HEADER]`` is the header block with its closing blank line; like every
    ``.PEEK`` it leaves flags alone. UIDs expunged meanwhile are simply absent.
    """
    return _fetch(client, uids, "BODY.PEEK[HEADER]", (b"BODY[HEADER]",), headers_only=True)


def _fetch(
    client: IMAPClient, uids: Sequence[int], section: str, keys: tuple[bytes, ...], *, headers_only: bool
) -> list[FetchedMessage]:
    """One ``UID FETCH uids (section RFC822.SIZE INTERNALDATE)``; ``keys``: how the answer names the section."""
    if not uids:
        return []
    wanted = set(uids)
    data = _uid_fetch(client, sorted(wanted), f"({section} RFC822.SIZE INTERNALDATE)")
    parts = read_fetch_answer(data, keys)
    return [
        FetchedMessage(uid=uid, raw=raw, size=size, internal_date=date, headers_only=headers_only)
        for uid, (raw, size, date) in sorted(parts.items())
        if uid in wanted
    ]


_Answer = list[bytes | tuple[bytes, bytes] | None]
_LITERAL_RE = re.compile(rb"\{(\d+)\}\r\n\Z")
_UNTAGGED_FETCH_RE = re.compile(rb"\* (\d+) FETCH ")


def _uid_fetch(client: IMAPClient, uids: Sequence[int], items: str) -> _Answer:
    """Send ``UID FETCH uids items`` and read the answer in the shape imaplib gives it, faster.

    imaplib reads a FETCH answer line by line through several regular expressions and
    bookkeeping per line, which for a batch of headers costs more than the server's work.
    Here each line is read once: a line ending in ``{n}`` is followed by its n-octet literal
    (kept as imaplib keeps it, ``(line, literal)``); untagged answers other than FETCH
    (EXISTS, EXPUNGE …) are read past. Raises IMAPClientError unless the server says OK.
    """
    imap = client._imap
    tag = imap._new_tag()
    imap.send(b"%s UID FETCH %s %s\r\n" % (tag, _uid_set(uids), items.encode("ascii")))
    try:
        data = _read_untagged_fetches(imap, tag)
    finally:
        imap.tagged_commands.pop(tag, None)
    return data or [None]


def _read_untagged_fetches(imap: Any, tag: bytes) -> _Answer:
    data: _Answer = []
    while True:
        line = _line(imap)
        if line.startswith(tag + b" "):
            if not line[len(tag) + 1 :].startswith(b"OK"):
                raise IMAPClientError(f"fetch failed: {line.decode('ascii', 'replace').strip()}")
            return data
        fetch = _UNTAGGED_FETCH_RE.match(line)
        if line.startswith(b"* BYE"):
            raise IMAPClientError(f"server closed the connection: {line.decode('ascii', 'replace').strip()}")
        body = fetch.group(1) + b" " + line[fetch.end() :] if fetch else line
        while (literal := _LITERAL_RE.search(line)) is not None:
            size = int(literal.group(1))
            octets = imap.read(size)
            if len(octets) != size:
                raise IMAPClientError("connection closed in the middle of a message")
            if fetch:
                data.append((body[:-2], octets))
            line = body = _line(imap)
        if fetch:
            data.append(body[:-2] if body.endswith(b"\r\n") else body)


def _line(imap: Any) -> bytes:
    line: bytes = imap.readline()
    if not line:
        raise IMAPClientError("connection closed by the server")
    return line


def _uid_set(uids: Sequence[int]) -> bytes:
    """Ascending UIDs as an IMAP sequence set, runs folded: ``1:500,502`` (short commands for big batches)."""
    runs: list[str] = []
    start = previous = uids[0]
    for uid in (*uids[1:], None):
        if uid is not None and uid == previous + 1:
            previous = uid
            continue
        runs.append(str(start) if start == previous else f"{start}:{previous}")
        if uid is not None:
            start = previous = uid
    return ",".join(runs).encode("ascii")


# What one message's FETCH answer is made of: its section's bytes, RFC822.SIZE, INTERNALDATE.
_Parts = tuple[bytes, int, datetime | None]

# "12 (UID 40 RFC822.SIZE 593 INTERNALDATE "22-Nov-2026 01:29:11 +0000" BODY[HEADER] {420}": the
# line before the literal, the way servers answer our FETCH; the literal's name is checked apart.
_BEFORE_LITERAL_RE = re.compile(rb"\d+ \((.*) (BODY\[[A-Z]*\](?:<0>)?) \{\d+\}")
_ATTRIBUTE_RE = re.compile(rb' ?(?:(UID|RFC822\.SIZE) (\d+)|INTERNALDATE "([^"]*)"|FLAGS \([^()]*\))')
_INTERNALDATE_RE = re.compile(r" ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)")


def read_fetch_answer(data: _Answer, keys: tuple[bytes, ...]) -> dict[int, _Parts]:
    """imaplib's raw answer to our UID FETCH as {uid: (section bytes, RFC822.SIZE, INTERNALDATE)}.

    ``keys``: the names the answer may give the section (``BODY[HEADER]``). The common shape
    is read quickly (``_fast_parse``); any other shape by imapclient's general parser.
    """
    parts = _fast_parse(data, keys)
    return _general_parse(data, keys) if parts is None else parts


def _fast_parse(data: _Answer, keys: tuple[bytes, ...]) -> dict[int, _Parts] | None:
    """Read imaplib's raw FETCH answer for the common shape, or None when it has another shape.

    imaplib hands each message with a literal as ``(line before the literal, literal)``
    followed by the rest of the line (``b")"``). imapclient's general parser tokenises every
    byte of that in Python, which costs more than the whole network read; the attributes we
    ask for are a few words, read here with regular expressions. Anything unexpected (a
    section sent as a quoted string, NIL, attributes after the literal, two literals) is
    left to the general parser. A line without a literal is an unsolicited FETCH (flags
    another session changed) and carries nothing we asked for.
    """
    parts: dict[int, _Parts] = {}
    after_literal = False
    for item in data:
        if isinstance(item, tuple):
            attributes = _before_literal(item[0], keys)
            if attributes is None:
                return None
            uid, size, date = attributes
            parts[uid] = (bytes(item[1]), len(item[1]) if size is None else size, date)
            after_literal = True
        elif after_literal:  # the rest of the line after the literal
            if item != b")":
                return None
            after_literal = False
        elif item is not None and b"BODY[" in item:  # a section sent without a literal
            return None
    return None if after_literal else parts


def _before_literal(line: bytes, keys: tuple[bytes, ...]) -> tuple[int, int | None, datetime | None] | None:
    """UID, RFC822.SIZE and INTERNALDATE from the line before the section's literal (None: another shape)."""
    found = _BEFORE_LITERAL_RE.fullmatch(line)
    return _attributes(found.group(1)) if found and found.group(2) in keys else None


def _attributes(text: bytes) -> tuple[int, int | None, datetime | None] | None:
    """UID, RFC822.SIZE and INTERNALDATE from the attributes before the literal (None: another shape)."""
    uid = size = None
    date = None
    position = 0
    for found in _ATTRIBUTE_RE.finditer(text):
        if found.start() != position:
            return None
        position = found.end()
        if found.group(1) == b"UID":
            uid = int(found.group(2))
        elif found.group(1):
            size = int(found.group(2))
        elif found.group(3) is not None:
            date = _internaldate(found.group(3).decode("ascii", "replace"))
    if position != len(text) or uid is None:
        return None
    return uid, size, date


def _internaldate(text: str) -> datetime | None:
    """An IMAP date-time (``22-Nov-2026 01:29:11 +0000``) as an aware datetime; None if unreadable."""
    found = _INTERNALDATE_RE.fullmatch(text)
    return datetime_from_fields(*found.groups()) if found else None


def _general_parse(data: _Answer, keys: tuple[bytes, ...]) -> dict[int, _Parts]:
    """imapclient's reading of a FETCH answer, for shapes ``_fast_parse`` leaves alone."""
    parts: dict[int, _Parts] = {}
    for uid, fields in parse_fetch_response(data, normalise_times=False, uid_is_key=True).items():
        section = next((fields[k] for k in keys if k in fields), None)
        if section is None:
            continue  # an unsolicited FETCH (flags another session changed)
        raw = bytes(section)
        date = fields.get(b"INTERNALDATE")
        parts[int(uid)] = (raw, int(fields.get(b"RFC822.SIZE", len(raw))), date if isinstance(date, datetime) else None)
    return parts


def fetch_in_batches(
    client: IMAPClient, uids: Sequence[int], *, batch_size: int, max_bytes: int = DEFAULT_MAX_BYTES
) -> Iterator[list[FetchedMessage]]:
    """``fetch_messages`` over ``uids`` in slices of ``batch_size`` (one FETCH per slice)."""
    for start in range(0, len(uids), batch_size):
        yield fetch_messages(client, uids[start : start + batch_size], max_bytes=max_bytes)
