"""The first look at a fetched message: what in its bytes could tie it to our threads.

Pure work on the message's bytes — no database, nothing shared — so the reply syncer runs it
on its IMAP reading thread (``outreach.services.inbox``): while the main thread waits on
PostgreSQL or on a FETCH, the batch that has just arrived is already being looked at,
instead of the main thread doing it all after its waits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from outreach.classify import body_may_matter
from outreach.imap import FetchedMessage
from outreach.mailparts import HeaderBlock, first_address
from outreach.matching import Candidates, candidates

__all__ = ["Screened", "screen"]


@dataclass(frozen=True)
class Screened:
    """One fetched message and what a first look at its bytes found.

    ``block``: its header block, when it was read by its headers and the quick reader
    (``mailparts.HeaderBlock``) takes it (None otherwise: the email package judges it);
    ``sender``: that block's From address; ``body_may_matter``: whether its body could change
    what it is (``classify.body_may_matter``; always True without a block).
    """

    fetched: FetchedMessage
    found: Candidates
    block: HeaderBlock | None = None
    sender: str | None = None
    body_may_matter: bool = True


def screen(messages: Sequence[FetchedMessage]) -> list[Screened]:
    """The first look at each of ``messages``, in order."""
    return [_screened(message) for message in messages]


def _screened(message: FetchedMessage) -> Screened:
    found = candidates(message.raw)
    block = HeaderBlock.parse(message.raw) if message.headers_only else None
    if block is None:
        return Screened(message, found)
    return Screened(message, found, block, first_address(block.text("From")), body_may_matter(block))
