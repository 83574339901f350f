"""Reply sync: read new mail over IMAP, store it once, tie it to a thread, apply what it means.

``mailbox_sync`` walks a mailbox's watched folders. Per folder it keeps UIDVALIDITY and the
last UID stored (:class:`~outreach.models.MailboxFolder`) and fetches only what is newer,
read-only (``outreach.imap``: EXAMINE and BODY.PEEK, so no flag ever changes). Each batch is
classified and matched outside any transaction, then stored in ONE transaction together
with every consequence (``outreach.services.automation``) and the folder's new last UID: a
crash mid-batch leaves the batch unstored, unapplied and unacknowledged, so the next sync
fetches it again and nothing is lost or applied twice. Rows are unique per mailbox and
Message-ID (``dedupe_key``), so a UIDVALIDITY change — the server renumbered the folder —
is answered by reading the folder again from UID 1 and skipping what is already stored.

A batch is read in two FETCHes: the header block of every message, then the whole message
only where the body matters (``_fetch_batch``).

Only mail about our threads is kept. Most of a mailbox has nothing to do with outreach: a
message whose headers name none of our Message-IDs or thread tokens, whose sender has no
running enrollment, and whose body could not change that (no bounce, report or out-of-office
shape) is counted and skipped without being judged further; a message judged whole that
still matches none of our threads is not kept either. Copying the owner's other mail into
the CRM would show it to every manager in the inbox and keep it in the database, and could
never change a prospect. Skipped mail is read again only after a UIDVALIDITY change, and
comes out the same.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import logging
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as dtime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from outreach.choices import MailboxStatus, MatchMethod, MessageKind, StopReason
from outreach.classify import Classification, classify_headers, classify_message
from outreach.connections import MailboxAuthError, MailboxConnectError, imap_connect
from outreach.imap import FetchedMessage, fetch_headers, fetch_messages, folder_examine, uids_after
from outreach.inbound import NO_FACTS, RowFacts, message_facts
from outreach.mailparts import parse_message
from outreach.matching import (
    NO_MATCH,
    BatchLookup,
    Candidates,
    Match,
    addresses_to_look_up,
    lookup_addresses,
    lookup_batch,
    lookup_message_ids,
    match_message,
)
from outreach.models import Enrollment, InboundMessage, Mailbox, MailboxFolder
from outreach.screening import Screened, screen
from outreach.services import automation
from outreach.services.transitions import enrollment_pause_until, mailbox_pause

logger = logging.getLogger(__name__)

# pg_try_advisory_lock(namespace, mailbox id): one sync per mailbox at a time, across workers.
_LOCK_NAMESPACE = 0x4C53  # "LS"

# Start of Mailbox.paused_reason when a sync paused it: such a mailbox is not read again until resumed.
IMAP_AUTH_PAUSE = "IMAP login refused"

__all__ = ["IMAP_AUTH_PAUSE", "FolderSync", "SyncResult", "mailbox_sync"]


@dataclass
class FolderSync:
    """What one folder's sync did."""

    folder: str
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    unrelated: int = 0  # read and skipped: not about our threads
    resynced: bool = False
    error: str = ""


@dataclass
class SyncResult:
    """What ``mailbox_sync`` did; ``skipped`` says why nothing was read, ``paused`` an auth failure."""

    mailbox_id: int
    folders: list[FolderSync] = field(default_factory=list)
    skipped: str = ""
    paused: bool = False
    error: str = ""
    # Seconds per phase (IMAP, classification, matching, inserts, consequences + commit): for the benchmark.
    timings: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(("imap", "classify", "match", "store", "act"), 0.0)
    )

    @property
    def fetched(self) -> int:
        return sum(f.fetched for f in self.folders)

    @property
    def stored(self) -> int:
        return sum(f.stored for f in self.folders)

    @property
    def unrelated(self) -> int:
        return sum(f.unrelated for f in self.folders)

    def __str__(self) -> str:
        if self.skipped or self.paused or self.error:
            return self.skipped or self.error or "mailbox paused"
        return (f"{self.fetched} fetched, {self.stored} new, {self.unrelated} not about our threads"
                f" in {', '.join(f.folder for f in self.folders)}")  # fmt: skip


@dataclass
class _Prepared:
    """One fetched message, classified and matched, ready to store."""

    fetched: FetchedMessage
    verdict: Classification
    found: Candidates
    facts: RowFacts
    match: Match = NO_MATCH  # one shared instance (Match is frozen): most mail matches nothing
    # Read by its headers only, and its body could change what it is or means: fetch it whole.
    needs_body: bool = False


@dataclass(frozen=True)
class _Context:
    """What every message of one sync is judged against."""

    mailbox: Mailbox
    our_addresses: frozenset[str]
    batch_size: int
    max_bytes: int

    @property
    def id_domains(self) -> frozenset[str]:
        """The domains our Message-IDs are written under: our mailboxes' (BatchLookup.id_domains)."""
        return frozenset(address.rpartition("@")[2] for address in self.our_addresses)


def mailbox_sync(mailbox_id: int, *, batch_size: int | None = None) -> SyncResult:
    """Fetch, store, classify, match and act on a mailbox's new mail in every watched folder.

    Never raises for the mailbox's own problems: a refused login pauses the mailbox (its
    owner sees why on the mailbox page) and a network failure is reported in the result;
    the next sync resumes after the last stored message.
    """
    result = SyncResult(mailbox_id=mailbox_id)
    mailbox = Mailbox.objects.filter(pk=mailbox_id).first()
    result.skipped = _why_not(mailbox)
    if mailbox is None or result.skipped:
        return result
    with _sync_lock(mailbox_id) as locked:
        if not locked:
            result.skipped = "another sync of this mailbox is running"
            return result
        context = _Context(
            mailbox=mailbox,
            our_addresses=frozenset(e.lower() for e in Mailbox.objects.values_list("email", flat=True)),
            batch_size=batch_size or settings.LINKCRM_IMAP_BATCH,
            max_bytes=settings.LINKCRM_IMAP_MAX_MESSAGE_BYTES,
        )
        with _collector_for_a_sync():
            _sync_connected(context, result)
    return result


# Automatic collections during a sync: after this many new objects, instead of 700.
_SYNC_GC_THRESHOLD = 50_000


@contextlib.contextmanager
def _collector_for_a_sync() -> Iterator[None]:
    """During a sync the garbage collector runs seldom, and only on what the sync made.

    A sync allocates millions of small objects. Left to itself the collector runs every 700
    new objects, walking the batch being judged again and again (a sixth of the CPU of judging
    it), and each of its full runs walked the whole process (Django, its models, every
    module). For the sync's duration, ``gc.freeze`` parks the objects that existed before it
    and the collector runs every ``_SYNC_GC_THRESHOLD`` new objects: the little cyclic
    garbage a sync leaves (the email parser's, mostly) is still freed as it goes. Afterwards
    the collector is as it was.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(_SYNC_GC_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _why_not(mailbox: Mailbox | None) -> str:
    """Why this mailbox is not read now ("" when it is).

    A mailbox paused by a person is still read: pausing stops sending, and a reply that
    arrives meanwhile must be seen before any follow-up leaves on resume. Only a refused
    IMAP login stops reading (retrying bad credentials gets accounts locked).
    """
    if mailbox is None:
        return "no such mailbox"
    if not mailbox.imap_host:
        return "no IMAP server configured"
    if imap_login_refused(mailbox):
        return f"mailbox paused: {mailbox.paused_reason}"
    return ""


def imap_login_refused(mailbox: Mailbox) -> bool:
    """Whether the mailbox is paused because the IMAP server refused its login (see mailbox_sync)."""
    return mailbox.status == MailboxStatus.PAUSED and mailbox.paused_reason.startswith(IMAP_AUTH_PAUSE)


def _sync_connected(context: _Context, result: SyncResult) -> None:
    mailbox = context.mailbox
    try:
        client = imap_connect(mailbox)
    except MailboxAuthError as exc:
        result.paused = mailbox_pause(mailbox_id=mailbox.pk, reason=f"{IMAP_AUTH_PAUSE}: {exc}")
        result.error = str(exc)
        return
    except MailboxConnectError as exc:
        result.error = str(exc)
        return
    try:
        for name in _watched(mailbox):
            folder = _sync_folder(client, context, name, result)
            result.folders.append(folder)
            if folder.error and not _still_connected(client):
                break
    finally:
        with contextlib.suppress(Exception):
            client.logout()


def _watched(mailbox: Mailbox) -> list[str]:
    names = [str(n).strip() for n in (mailbox.watch_folders or ["INBOX"])]
    return list(dict.fromkeys(n for n in names if n))


def _still_connected(client: IMAPClient) -> bool:
    try:
        client.noop()
    except Exception:  # the connection is gone: the remaining folders wait for the next sync
        return False
    return True


@contextlib.contextmanager
def _sync_lock(mailbox_id: int) -> Iterator[bool]:
    """A session-level advisory lock: two workers never sync one mailbox at once."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_NAMESPACE, mailbox_id])
        locked = bool(cursor.fetchone()[0])
    try:
        yield locked
    finally:
        if locked:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_NAMESPACE, mailbox_id])


def _sync_folder(client: IMAPClient, context: _Context, name: str, result: SyncResult) -> FolderSync:
    """Read one folder from its last stored UID on (from UID 1 if its UIDVALIDITY changed)."""
    outcome = FolderSync(folder=name)
    state, _ = MailboxFolder.objects.get_or_create(mailbox=context.mailbox, name=name)
    try:
        started = time.perf_counter()
        status = folder_examine(client, name)
        last_uid = state.last_uid
        if state.uidvalidity != status.uidvalidity:
            # The server renumbered the folder: every UID we knew is meaningless now.
            outcome.resynced = state.uidvalidity is not None
            last_uid = 0
            MailboxFolder.objects.filter(pk=state.pk).update(uidvalidity=status.uidvalidity, last_uid=0)
        uids = uids_after(client, last_uid)
        result.timings["imap"] += time.perf_counter() - started
        _sync_uids(client, context, state, status.uidvalidity, uids, outcome, result)
    except (IMAPClientError, OSError) as exc:
        outcome.error = f"{type(exc).__name__}: {str(exc)[:300]}"
        MailboxFolder.objects.filter(pk=state.pk).update(last_error=outcome.error[:500])
        logger.warning("IMAP sync of %s/%s stopped: %s", context.mailbox.email, name, outcome.error)
        return outcome
    MailboxFolder.objects.filter(pk=state.pk).update(last_synced_at=timezone.now(), last_error="")
    return outcome


def _sync_uids(
    client: IMAPClient, context: _Context, state: MailboxFolder, uidvalidity: int, uids: list[int],
    outcome: FolderSync, result: SyncResult,
) -> None:  # fmt: skip
    batches = [uids[start : start + context.batch_size] for start in range(0, len(uids), context.batch_size)]
    with _reads_in_background(client) as reads:
        upcoming = reads.headers(batches[0]) if batches else None
        for position in range(len(batches)):
            heads = _waited(upcoming, result)
            # The next batch's headers are read while this one is judged and stored.
            upcoming = reads.headers(batches[position + 1]) if position + 1 < len(batches) else None
            batch = _fetch_batch(reads, context, state.name, heads, result)
            if not batch:
                continue
            kept = [p for p in batch if _about_our_threads(p)]
            stored = _store_batch(context, state, uidvalidity, kept, max(p.fetched.uid for p in batch), result.timings)
            outcome.fetched += len(batch)
            outcome.stored += stored
            outcome.duplicates += len(kept) - stored
            outcome.unrelated += len(batch) - len(kept)


class _BackgroundReads:
    """A folder's FETCHes, run one after another on a thread of their own, in the order asked.

    An IMAP connection answers one command at a time, and while the server prepares an
    answer this process would wait idle; with the FETCHes on their own thread, the server
    reads the next batch from disk while this one is judged and stored, so its work and
    ours overlap instead of taking turns (about a sixth of a 10,000-message sync). The thread
    also gives each message its first look (``outreach.screening``: pure work on its bytes),
    which it does while the main thread waits on the database. Only this thread touches the
    connection until ``_reads_in_background`` ends.
    """

    def __init__(self, client: IMAPClient, pool: ThreadPoolExecutor) -> None:
        self._client = client
        self._pool = pool

    def headers(self, uids: list[int]) -> Future[list[Screened]]:
        """The header blocks of ``uids``, each given its first look (``screening``) on this thread too."""
        return self._pool.submit(lambda: screen(fetch_headers(self._client, uids)))

    def messages(self, uids: list[int], *, max_bytes: int) -> Future[list[Screened]]:
        """The whole messages ``uids`` (their first ``max_bytes``), each given its first look."""
        return self._pool.submit(lambda: screen(fetch_messages(self._client, uids, max_bytes=max_bytes)))


@contextlib.contextmanager
def _reads_in_background(client: IMAPClient) -> Iterator[_BackgroundReads]:
    """Background reads on ``client``; on the way out, FETCHes not started are dropped and a
    running one is waited for, so the connection is the caller's again (logout, next folder)."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="imap-read")
    try:
        yield _BackgroundReads(client, pool)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _waited(future: Future[list[Screened]] | None, result: SyncResult) -> list[Screened]:
    """A background FETCH's messages (its error raised here), the wait counted as IMAP time."""
    if future is None:
        return []
    started = time.perf_counter()
    try:
        return future.result()
    finally:
        result.timings["imap"] += time.perf_counter() - started


def _fetch_batch(
    reads: _BackgroundReads, context: _Context, folder: str, heads: list[Screened], result: SyncResult
) -> list[_Prepared]:
    """A batch judged from its ``heads``, then whole messages only where the body matters; in UID order.

    The headers decide: mail they show is not about our threads (``_plainly_unrelated``) —
    most of a mailbox — is skipped without being fetched whole. Mail tied to one of our
    threads and anything shaped like a bounce, report or out-of-office (``_needs_body``) is
    fetched whole (one more FETCH for all of them) and judged from its full text.
    """
    if not heads:
        return []
    # Shared by both reads: the second asks the database only what is new.
    lookup = BatchLookup(id_domains=context.id_domains)
    prepared = _prepare(context, folder, heads, result, lookup)
    wanted = [p.fetched.uid for p in prepared if p.needs_body]
    bodies = _waited(reads.messages(wanted, max_bytes=context.max_bytes), result) if wanted else []
    whole = {p.fetched.uid: p for p in _prepare(context, folder, bodies, result, lookup)}
    # Whatever is kept was read whole; a message expunged between the two FETCHes is gone.
    return [whole.get(p.fetched.uid, p) for p in prepared if not p.needs_body or p.fetched.uid in whole]


def _prepare(
    context: _Context, folder: str, batch: list[Screened], result: SyncResult, lookup: BatchLookup
) -> list[_Prepared]:
    """Classify and match a batch (reads only: nothing here needs a transaction)."""
    started = time.perf_counter()
    lookup_batch([s.found for s in batch], lookup)
    # The senders' running enrollments: mail from them is about our threads whatever it names.
    lookup_addresses(lookup, {s.sender for s in batch if s.sender}, mailbox_id=context.mailbox.pk)
    result.timings["match"] += time.perf_counter() - started
    started = time.perf_counter()
    prepared = [_classified(context, folder, screened, lookup) for screened in batch]
    result.timings["classify"] += time.perf_counter() - started
    started = time.perf_counter()
    _complete_lookup(lookup, prepared, context.mailbox.pk)
    for item in prepared:
        if item.verdict is _UNRELATED:
            continue
        item.match = match_message(item.verdict, item.found, lookup, received_at=_aware(item.fetched.internal_date))
        item.needs_body = item.needs_body or (item.fetched.headers_only and item.match.method != MatchMethod.NONE)
    result.timings["match"] += time.perf_counter() - started
    return prepared


def _classified(context: _Context, folder: str, screened: Screened, lookup: BatchLookup) -> _Prepared:
    """One message judged: from its header block (unless the body matters) or from its whole text.

    Mail its headers show is not about our threads is not judged at all (``_UNRELATED``):
    nothing it says could be kept or acted on. A verdict on headers alone only decides whether
    the message is tied to a thread; one that is, is read and judged whole before it is kept,
    so only a whole message's display facts are ever read.
    """
    fetched, found, block = screened.fetched, screened.found, screened.block
    sent = folder == context.mailbox.sent_folder
    if fetched.headers_only and (sent or _plainly_unrelated(screened, lookup)):
        # Mail in our Sent folder is mail we sent, never an answer to us, whatever it looks like.
        return _Prepared(fetched, _UNRELATED, found, NO_FACTS)
    received = _aware(fetched.internal_date)
    ours = lookup.our_ids_in(found)
    if fetched.headers_only:
        if _needs_body(screened, lookup):
            # Judged from its whole text in a moment: no need to judge its headers first.
            return _Prepared(fetched, _PENDING, found, NO_FACTS, needs_body=True)
        verdict = classify_headers(fetched.raw, our_addresses=context.our_addresses, our_message_ids=ours,
                                   received_at=received, block=block)  # fmt: skip
        return _Prepared(fetched, verdict, found, NO_FACTS)
    msg = parse_message(fetched.raw)  # once, for the verdict and the facts
    verdict = classify_message(fetched.raw, our_addresses=context.our_addresses, our_message_ids=ours,
                               received_at=received, parsed=msg)  # fmt: skip
    return _Prepared(fetched, verdict, found, message_facts(msg))


def _plainly_unrelated(screened: Screened, lookup: BatchLookup) -> bool:
    """Whether a message's headers alone show it is not about our threads, whatever its body says.

    Nothing in it names our mail (``_needs_body``: no Message-ID or thread token of ours, no
    bounce, report or out-of-office shape whose body could) and its sender has no running
    enrollment, so ``match_message`` could tie it to no thread.
    """
    if screened.block is None or _needs_body(screened, lookup):
        return False
    return screened.sender is None or screened.sender not in lookup.by_address


def _about_our_threads(item: _Prepared) -> bool:
    """Whether a judged message is kept: it matched one of our threads."""
    return item.verdict is not _UNRELATED and item.match.method != MatchMethod.NONE


def _needs_body(screened: Screened, lookup: BatchLookup) -> bool:
    """Whether a message read by its headers must be fetched whole, from its headers alone.

    Mail that names one of our Message-IDs or thread tokens is about our threads; a bounce,
    report or possible out-of-office names its recipient, status, original message or
    return date in its body (``body_may_matter``). What is left can still be tied to a
    thread by its sender: ``_prepare`` asks for the body of every message it matches.
    """
    return screened.body_may_matter or lookup.names_ours(screened.found)


# Placeholders for a message whose headers already say it must be read whole, and for one
# they show is not about our threads.
_PENDING = Classification(MessageKind.UNKNOWN, "waiting for the whole message")
_UNRELATED = Classification(MessageKind.UNKNOWN, "not about our threads")


def _complete_lookup(lookup: BatchLookup, prepared: list[_Prepared], mailbox_id: int) -> None:
    """Second round of lookups: quoted originals the byte scan missed, and senders/recipients."""
    originals = {p.verdict.original_message_id for p in prepared if p.verdict.original_message_id}
    lookup_message_ids(lookup, originals)
    addresses = {a for p in prepared for a in addresses_to_look_up(p.verdict)}
    lookup_addresses(lookup, addresses, mailbox_id=mailbox_id)


def _event_moment(internal_date: datetime | None) -> datetime:
    """When a message's consequences happened, for automation's "not over a later person" rule.

    INTERNALDATE has whole seconds: the message arrived somewhere in [t, t+1s). Taking the end
    of that second (never past now) keeps a person's move made in the same second as the
    arrival from silently cancelling the reply's move.
    """
    now = timezone.now()
    moment = _aware(internal_date)
    return now if moment is None else min(moment + timedelta(seconds=1), now)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if timezone.is_aware(moment) else moment.astimezone()


# --- storing ---------------------------------------------------------------------------------


def _store_batch(
    context: _Context, state: MailboxFolder, uidvalidity: int, prepared: list[_Prepared], last_uid: int,
    timings: dict[str, float],
) -> int:
    """Store a batch's kept messages, apply each new one's consequences and advance the folder
    to ``last_uid`` (the batch's last, kept or not), all or nothing.

    Returns how many rows were new (the rest were already stored: a resync or a copy).
    """
    started = time.perf_counter()
    rows = [_row(context.mailbox, state.name, uidvalidity, p) for p in prepared]
    with transaction.atomic():
        stored = _insert_new(rows)
        timings["store"] += time.perf_counter() - started
        started = time.perf_counter()
        # A row for this UID exists only if this INSERT made it: a message already stored
        # (resync, copy in another folder, twice in this batch) was skipped by the conflict.
        _apply_all(context, [(stored[p.fetched.uid], p) for p in prepared if p.fetched.uid in stored and _may_act(p)])
        MailboxFolder.objects.filter(pk=state.pk).update(last_uid=Greatest(F("last_uid"), last_uid))
        timings["act"] += time.perf_counter() - started
    return len(stored)


def _dedupe_key(verdict: Classification, raw: bytes) -> str:
    """The message's Message-ID, or a hash: of the raw bytes when it has none, of the ID when too long."""
    if verdict.message_id:
        if len(verdict.message_id) <= 255 and "\x00" not in verdict.message_id:
            return verdict.message_id
        return "msgid-sha256:" + hashlib.sha256(verdict.message_id.encode("utf-8", "replace")).hexdigest()
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _row(mailbox: Mailbox, folder: str, uidvalidity: int, item: _Prepared) -> dict[str, object]:
    """The InboundMessage columns of one message, for ``_insert_new``."""
    verdict, facts, match = item.verdict, item.facts, item.match
    first = verdict.bounced[0] if verdict.bounced else None
    return dict(
        mailbox_id=mailbox.pk, folder=folder, uidvalidity=uidvalidity, uid=item.fetched.uid,
        dedupe_key=_clean(_dedupe_key(verdict, item.fetched.raw), 255),
        message_id=_clean(verdict.message_id or "", 255), in_reply_to=_clean(" ".join(verdict.in_reply_to), 255),
        references=_clean(" ".join(verdict.references), 20_000), from_address=_clean(verdict.from_address or "", 254),
        from_name=_clean(facts.from_name, 200), to_addresses=_clean(facts.to_addresses, 5_000),
        subject=_clean(verdict.subject or facts.subject, 998), date=facts.date,
        text=_clean(facts.text, 50_000),
        raw_size=min(item.fetched.size, 2**31 - 1), kind=str(verdict.kind), kind_reason=_clean(verdict.reason, 300),
        failed_recipient=_clean(first.address if first else "", 254),
        permanent=verdict.permanent if verdict.kind == MessageKind.BOUNCE else None,
        status_code=_clean(verdict.status_code or "", 16),
        return_date=verdict.return_date,
        match_method=str(match.method), match_detail=_clean(match.detail, 300),
        matched_message_id=match.message.pk if match.message else None,
        enrollment_id=match.enrollment.pk if match.enrollment else None, prospect_id=match.prospect_id,
        needs_attention=verdict.kind == MessageKind.REPLY and match.prospect_id is not None,
    )  # fmt: skip


def _insert_new(rows: list[dict[str, object]]) -> dict[int, int]:
    """INSERT ``rows``, skipping any whose (mailbox, dedupe_key) is stored: {uid: pk} of the new rows.

    The batch is COPYed into a temporary table (values travel as they are, with no SQL
    quoting of each, which costs more than the insert itself) and moved into the table by
    one ``INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING``, which names exactly the rows
    it made — a message already stored (resync, copy in another folder, twice in this
    batch) comes back in none.
    """
    if not rows:
        return {}
    statements = _insert_statements(tuple(rows[0]))
    received = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(statements.create)
        with cursor.copy(statements.copy) as copy:
            for row in rows:
                copy.write_row((*row.values(), received))
        cursor.execute(statements.move)
        stored = dict(cursor.fetchall())
        cursor.execute(statements.drop)
    return stored


@dataclass(frozen=True)
class _InsertStatements:
    create: str
    copy: str
    move: str
    drop: str


@functools.cache
def _insert_statements(names: tuple[str, ...]) -> _InsertStatements:
    """The SQL of ``_insert_new`` for rows with the columns ``names`` (identifiers come from the model)."""
    quote = connection.ops.quote_name
    table, batch = quote(InboundMessage._meta.db_table), quote("inbound_batch")
    columns = ", ".join(quote(InboundMessage._meta.get_field(name).column) for name in (*names, "received_at"))
    return _InsertStatements(
        create=f"CREATE TEMP TABLE {batch} ON COMMIT DROP AS SELECT {columns} FROM {table} WITH NO DATA",  # noqa: S608
        copy=f"COPY {batch} ({columns}) FROM STDIN",
        move=(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {batch} "  # noqa: S608
            f"ON CONFLICT ({quote('mailbox_id')}, {quote('dedupe_key')}) DO NOTHING "
            f"RETURNING {quote('uid')}, {quote('id')}"
        ),
        drop=f"DROP TABLE {batch}",
    )


def _clean(value: str, limit: int) -> str:
    """PostgreSQL text holds neither NUL nor lone surrogates (undecodable header bytes); columns have limits."""
    if not value.isascii():
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value.replace("\x00", "")[:limit]


# --- consequences ----------------------------------------------------------------------------


def _may_act(item: _Prepared) -> bool:
    """Whether ``_apply`` could do anything for a kept message (all of them are tied to a thread).

    An auto-reply without a return date, or a transient or infrastructure bounce, is only recorded.
    """
    verdict = item.verdict
    if verdict.kind == MessageKind.AUTO_REPLY:
        return verdict.return_date is not None
    if verdict.kind == MessageKind.BOUNCE:
        return any(r.permanent is True and not r.infrastructure for r in verdict.bounced)
    return verdict.kind in (MessageKind.REPLY, MessageKind.COMPLAINT)


def _apply_all(context: _Context, acting: list[tuple[int, _Prepared]]) -> None:
    """Apply the consequences of a batch's new messages ((row id, message) pairs) in UID order.

    Runs of human replies — the consequence most mail of ours gets — are applied together
    (``_apply_replies``: a few statements for the run instead of some twenty per reply);
    any other consequence is applied alone, between the runs, so the order stays the mail's.
    """
    run: list[tuple[int, _Prepared]] = []
    for inbound_id, item in acting:
        if _is_reply(item):
            run.append((inbound_id, item))
            continue
        _apply_replies(context, run)
        run = []
        _apply_safely(context, inbound_id, item)
    _apply_replies(context, run)


def _is_reply(item: _Prepared) -> bool:
    return item.verdict.kind == MessageKind.REPLY and item.match.enrollment is not None


def _apply_replies(context: _Context, run: list[tuple[int, _Prepared]]) -> None:
    """Apply a run of human replies in one savepoint; if that fails, each alone (``_apply_safely``).

    Alone, a reply that cannot be applied is recorded on its row and the others still are.
    """
    if not run:
        return
    replies = [_reply(item) for _, item in run]
    try:
        with transaction.atomic():
            automation.on_replies(replies)
    except Exception:
        logger.warning("consequences of %d replies failed together; applying them one by one", len(run))
        for inbound_id, item in run:
            _apply_safely(context, inbound_id, item)


def _reply(item: _Prepared) -> automation.Reply:
    assert item.match.enrollment is not None  # a reply with consequences is tied to a thread (_is_reply)
    return automation.Reply(
        enrollment=item.match.enrollment,
        received_at=_event_moment(item.fetched.internal_date),
        from_address=item.verdict.from_address or "",
    )


def _apply_safely(context: _Context, inbound_id: int, item: _Prepared) -> None:
    """Apply one stored message's consequences in a savepoint; a failure is recorded, not raised.

    A bug in one consequence must not stop the sync (or, worse, make it refetch the batch
    forever): the row stays stored, says what failed and asks a person to look.
    """
    try:
        with transaction.atomic():
            _apply(context, item)
    except Exception as exc:
        logger.exception("consequences of inbound message %s failed", inbound_id)
        InboundMessage.objects.filter(pk=inbound_id).update(
            needs_attention=True,
            kind_reason=_clean(f"automation failed ({type(exc).__name__}): {item.verdict.reason}", 300),
        )


def _apply(context: _Context, item: _Prepared) -> None:
    """What a new message means for its thread (automation.py does the prospect side)."""
    verdict, enrollment = item.verdict, item.match.enrollment
    at = _event_moment(item.fetched.internal_date)
    if _is_reply(item):
        automation.on_replies([_reply(item)])
    elif verdict.kind == MessageKind.AUTO_REPLY and enrollment is not None and verdict.return_date:
        until = datetime.combine(verdict.return_date, dtime.min, tzinfo=_zone(context.mailbox.timezone))
        if until > timezone.now():
            enrollment_pause_until(enrollment_id=enrollment.pk, until=until)
    elif verdict.kind == MessageKind.BOUNCE:
        _apply_bounce(verdict, enrollment, at)
    elif verdict.kind == MessageKind.COMPLAINT:
        address = verdict.complained_recipient or (enrollment.contact.email if enrollment else "")
        if address:
            automation.on_opt_out(enrollment=enrollment, address=address, reason=StopReason.COMPLAINED, project_id=None)


def _apply_bounce(verdict: Classification, enrollment: Enrollment | None, at: datetime) -> None:
    """Permanent failures condemn their address; transient and infrastructure ones are only recorded."""
    permanent = [r for r in verdict.bounced if r.permanent is True and not r.infrastructure]
    for recipient in permanent:
        ours = enrollment is not None and (
            len(permanent) == 1 or enrollment.contact.email.lower() == recipient.address.lower()
        )
        detail = " ".join(part for part in (recipient.status_code or "", recipient.diagnostic[:120]) if part)
        automation.on_hard_bounce(
            enrollment=enrollment if ours else None, address=recipient.address, detail=detail or "permanent", at=at
        )


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (KeyError, ValueError):  # an unknown zone name: UTC rather than no pause
        return ZoneInfo("UTC")
