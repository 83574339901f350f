"""Reading a watched IMAP folder without changing it: EXAMINE, UID SEARCH, FETCH BODY.PEEK.

The protocol half of the reply syncer (the service half is ``outreach.services.inbox``). A
folder is always opened read-only (EXAMINE) and messages are fetched with ``BODY.PEEK``, so
the server never sets ``\\Seen`` or any other flag: the mailbox owner's mail client shows
every message exactly as before we read it. Only UIDs above the last one seen are fetched,
in batches, so a sync costs what is new, not what the folder holds. The syncer reads the
headers of every new message first (``fetch_headers``) and whole messages only for the few
whose headers say the body matters (``fetch_messages``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from imapclient import IMAPClient

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
    if not uids:
        return []
    partial = f"BODY.PEEK[]<0.{max_bytes}>"
    answer = client.fetch(list(uids), [partial, "RFC822.SIZE", "INTERNALDATE"])
    messages = []
    for uid in sorted(answer):
        data = answer[uid]
        raw = data.get(b"BODY[]<0>", data.get(b"BODY[]")) or b""
        messages.append(
            FetchedMessage(
                uid=int(uid),
                raw=bytes(raw),
                size=int(data.get(b"RFC822.SIZE", len(raw))),
                internal_date=data.get(b"INTERNALDATE"),
            )
        )
    return messages


def fetch_headers(client: IMAPClient, uids: Sequence[int]) -> list[FetchedMessage]:
    """The header blocks of messages ``uids`` of the selected folder (one FETCH), in UID order.

    ``BODY.PEEK[HEADER]`` is the header block with its closing blank line; like every
    ``.PEEK`` it leaves flags alone. UIDs expunged meanwhile are simply absent.
    """
    if not uids:
        return []
    answer = client.fetch(list(uids), ["BODY.PEEK[HEADER]", "RFC822.SIZE", "INTERNALDATE"])
    messages = []
    for uid in sorted(answer):
        data = answer[uid]
        head = bytes(data.get(b"BODY[HEADER]") or b"")
        messages.append(
            FetchedMessage(
                uid=int(uid),
                raw=head,
                size=int(data.get(b"RFC822.SIZE", len(head))),
                internal_date=data.get(b"INTERNALDATE"),
                headers_only=True,
            )
        )
    return messages


def fetch_in_batches(
    client: IMAPClient, uids: Sequence[int], *, batch_size: int, max_bytes: int = DEFAULT_MAX_BYTES
) -> Iterator[list[FetchedMessage]]:
    """``fetch_messages`` over ``uids`` in slices of ``batch_size`` (one FETCH per slice)."""
    for start in range(0, len(uids), batch_size):
        yield fetch_messages(client, uids[start : start + batch_size], max_bytes=max_bytes)
