"""The loader: a stream of normalised rows → COPY into a staging table → set-based merge.

One call loads one import for one site. It must run inside the caller's transaction (the
service wraps the whole import in ``transaction.atomic``): nothing here commits, so any
exception leaves the database as it was.

Memory stays flat in the file's size: rows are formatted into COPY text and sent in
batches of ``COPY_BATCH_ROWS``; only bounded caches (host → registrable domain, valid
dates) and the first ``ROW_ERRORS_KEPT`` row errors are kept in Python.

Merge rules (``audit_backlink``):
- one row per (site, url_key), url_key = md5(source_url || E'\\n' || target_url)::uuid,
  computed in Python as each row is formatted (hashlib; the same bytes PostgreSQL would hash);
- within one export the first line of a duplicated link wins (Semrush lists a page once per
  anchor); across exports the newer export's values win;
- an unchanged link is not written at all (``ON CONFLICT ... DO UPDATE ... WHERE
  (old) IS DISTINCT FROM (new)``): re-importing the same export leaves no dead tuples;
- authority goes to the provider's own columns; the provider's bit is set in ``providers``;
- a full-snapshot import clears its provider's bit on the site's links missing from it; a
  link left with no bit is lost as of the import date; a lost link found again is live.
Afterwards the site's referring domains whose links changed are re-aggregated from its
backlinks (all of them after a site's first import; none when nothing changed).
"""

# ruff: noqa: S608 - SQL text here is built from this module's constants and integer ids
# (work-table names); every value that comes from a file travels as COPY data or a parameter.
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import ipaddress
import logging
import queue
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.db import DatabaseError, connection

from audit.choices import PROVIDER_BIT, ImportKind, LinkType, Provider
from audit.importers.base import BacklinkRow, ImportRefused, LineError, RefDomainRow
from linkcrm.lib import domains

logger = logging.getLogger(__name__)

COPY_BATCH_ROWS = 2000  # rows per write to the COPY stream; progress is published between batches
CHUNK_ROWS = 50_000  # backlink rows COPYed and merged at a time, while the next chunk is parsed
_LOCK_NAMESPACE = 0x4C4B  # pg_advisory_xact_lock(namespace, site id): one import per site at a time
ROW_ERRORS_KEPT = 1000  # row errors stored on the LinkImport; all are counted
RATIO_MIN_ROWS = 50  # below this many rows read, only the absolute bad-row limit applies
CACHE_LIMIT = 65_536  # entries per lookup cache before it is emptied (keeps memory flat)
_SMALLINT_MAX = 32767
_INT_MAX = 2147483647
NULL = "\\N"
_LINK_TYPES = frozenset(LinkType.values)
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NETLOC = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)")
# Export formats that report bare URLs: their empty anchor or false flags mean "not known",
# so they never overwrite what a richer provider said about the same link.
_URL_ONLY_PROVIDERS = frozenset({Provider.GSC})
# Which of the link's columns hold each provider's (page, domain) authority.
_AUTHORITY_COLUMNS: dict[str, tuple[str, str]] = {
    Provider.SEMRUSH: ("semrush_page_ascore", "semrush_domain_ascore"),
    Provider.AHREFS: ("ahrefs_ur", "ahrefs_dr"),
    Provider.MAJESTIC: ("majestic_cf", "majestic_tf"),
}
_REFDOMAIN_AUTHORITY_COLUMN = {
    Provider.SEMRUSH: "semrush_ascore",
    Provider.AHREFS: "ahrefs_dr",
    Provider.MAJESTIC: "majestic_tf",
}


class _Phases:
    """Wall-clock seconds per phase of the current load, logged at DEBUG when it ends.

    Diagnostics only (``make bench-import`` prints them): one process runs one load at a
    time, and the two threads of a load add to different phases.
    """

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - started

    def log(self, import_id: int) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            shown = ", ".join(f"{name} {seconds:.2f}" for name, seconds in self.seconds.most_common())
            logger.debug("load of import %s, seconds per phase: %s", import_id, shown)
        self.seconds.clear()


_phase = _Phases()


class ImportCancelled(Exception):
    """A user asked for the running import to stop; the transaction is rolled back."""


@dataclass(frozen=True)
class LoadLimits:
    """When malformed rows make the whole import fail."""

    max_bad_rows: int = 1000
    max_bad_ratio: float = 0.1


@dataclass
class LoadResult:
    """Counts of one load; ``row_errors`` holds the first ROW_ERRORS_KEPT skipped rows."""

    bytes_read: int = 0
    rows_read: int = 0
    rows_imported: int = 0
    rows_skipped: int = 0
    rows_new: int = 0
    rows_lost: int = 0
    row_errors: list[dict[str, Any]] = field(default_factory=list)

    def skip(self, line: int, field_name: str, message: str) -> None:
        self.rows_skipped += 1
        if len(self.row_errors) < ROW_ERRORS_KEPT:
            self.row_errors.append({"line": line, "field": field_name, "message": message})


class ProgressReporter:
    """Publishes progress and reads the cancel flag through its OWN autocommit connection.

    The import's transaction stays open for the whole load, so nothing it writes is visible
    until the end; this side connection is what lets a page show progress and a user cancel.
    It never touches the row while the import transaction holds a lock on it (the service
    closes the reporter before its final update), and gives up on a write that would wait.
    """

    def __init__(
        self, import_id: int, *, interval: float, connect: Callable[[], psycopg.Connection] | None = None
    ):
        self.import_id = import_id
        self.interval = interval
        self._connect = connect or side_connection
        self._conn: psycopg.Connection | None = None
        self._next_at = 0.0

    def due(self) -> bool:
        return time.monotonic() >= self._next_at

    def publish(self, *, bytes_read: int, rows_read: int, rows_skipped: int) -> bool:
        """Write the counters; return True when a cancel was requested."""
        self._next_at = time.monotonic() + self.interval
        try:
            if self._conn is None:
                self._conn = self._connect()
            row = self._conn.execute(
                "UPDATE audit_linkimport SET bytes_read = %s, rows_read = %s, rows_skipped = %s"
                " WHERE id = %s RETURNING cancel_requested",
                [bytes_read, rows_read, rows_skipped, self.import_id],
            ).fetchone()
        except psycopg.errors.LockNotAvailable:
            return False  # someone holds the row (e.g. a cancel in flight): try again next time
        return bool(row and row[0])

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def side_connection() -> psycopg.Connection:
    """A fresh autocommit connection to the same database Django uses (the test DB in tests)."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    conn = psycopg.connect(**params, autocommit=True)
    # Never wait on the import's own locks: a skipped progress write costs nothing.
    conn.execute("SET lock_timeout = '200ms'")
    return conn


# --- row formatting ----------------------------------------------------------------------


class BadValue(Exception):
    """A value the database would refuse; the row is skipped with this field and message."""

    def __init__(self, field_name: str, message: str) -> None:
        self.field = field_name
        self.message = message


class _Memo(dict):
    """value → its COPY text. A miss checks the value once (raising BadValue) and remembers it.

    Exports repeat the same few values (dates, scores, flags, hosts) millions of times, so
    per row this is one dict lookup in C. Emptied past CACHE_LIMIT entries: memory stays flat.
    """

    __slots__ = ("check", "field")

    def __init__(self, check: Callable[[Any, str], Any], field_name: str) -> None:
        super().__init__()
        self.check = check
        self.field = field_name

    def __missing__(self, key: Any) -> Any:
        text = self.check(key, self.field)
        if len(self) >= CACHE_LIMIT:
            self.clear()
        self[key] = text
        return text


def _date_text(value: str | None, field_name: str) -> str:
    if value is None:
        return NULL
    try:
        dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise BadValue(field_name, f"not a date: {value!r}") from None
    return value


def _int_check(maximum: int) -> Callable[[int | None, str], str]:
    def check(value: int | None, field_name: str) -> str:
        if value is None:
            return NULL
        if type(value) is not int or not 0 <= value <= maximum:
            raise BadValue(field_name, f"{value!r} is out of range (0 to {maximum})")
        return str(value)

    return check


def _flag_check(nullable: bool) -> Callable[[bool | None, str], str]:
    def check(value: bool | None, field_name: str) -> str:
        if value is None:
            return NULL if nullable else "f"  # a NOT NULL flag nobody stated is not set
        if type(value) is not bool:
            raise BadValue(field_name, f"expected true or false, got {value!r}")
        return "t" if value else "f"

    return check


def _link_type_check(value: str, field_name: str) -> str:
    if value not in _LINK_TYPES:
        raise BadValue(field_name, f"unknown link type {value!r}")
    return value


# How each backlink stage column's value is checked and spelled as COPY text.
_COLUMN_TEXT: dict[str, Callable[[Any, str], str]] = {
    "link_type": _link_type_check,
    **dict.fromkeys(("nofollow", "sponsored", "ugc"), _flag_check(False)),
    **dict.fromkeys(("sitewide", "is_spam"), _flag_check(True)),
    **dict.fromkeys(("first_seen", "last_seen", "lost_at"), _date_text),
    **dict.fromkeys(("external_links", "internal_links"), _int_check(_INT_MAX)),
    "http_status": _int_check(999),
    **dict.fromkeys(("page_authority", "domain_authority", "toxic_score"), _int_check(100)),
}


def copy_texts(*values: tuple[Any, str]) -> str:
    """(value, stage column) pairs → their tab-joined COPY text, checked as the loader checks
    them (raises BadValue). For the importers' fused fast paths (Importer.build_copy)."""
    return "\t".join(_COLUMN_TEXT[column](value, column) for value, column in values)


def host_and_domain(netloc: str, field_name: str) -> tuple[str, str]:
    """(host, registrable domain) of a URL's netloc, exactly as linkcrm.lib.domains names them.

    A plain host (most of them) skips the general path's urlsplit, IP parsing and IDNA:
    normalize_host would only fold its ``www.``. tests/audit/test_loading.py checks this
    against host_of_url/registrable_domain.
    """
    host = netloc.lower()
    if domains.is_plain_host(host):
        host = domains.fold_www(host)
        return host, domains.split_plain_host(host)[0]
    try:
        host = domains.host_of_url("http://" + netloc)
        return host, domains.registrable_domain(host)
    except domains.DomainError as exc:
        raise BadValue(field_name, str(exc)) from None


def _url_host_and_domain(url: str) -> tuple[str, str]:
    """The general path, for source URLs without a ``scheme://``."""
    try:
        host = domains.host_of_url(url)
        return host, domains.registrable_domain(host)
    except domains.DomainError as exc:
        raise BadValue("source_url", str(exc)) from None


def _escaped(values: tuple[str, ...], names: tuple[str, ...]) -> str:
    """Tab-joined COPY text of free-text fields that hold a tab, newline, CR or backslash."""
    for value, name in zip(values, names, strict=True):
        if not isinstance(value, str):
            raise BadValue(name, f"expected text, got {value!r}")
        if "\x00" in value:
            raise BadValue(name, "contains a NUL character")
    return "\t".join(value.translate(_ESCAPES) for value in values)


_BACKLINK_TEXT_FIELDS = ("source_url", "target_url", "anchor", "source_title")
BACKLINK_STAGE_COLUMNS = (
    "line", "source_url", "target_url", "anchor", "source_title", "source_host", "source_domain",
    "link_type", "nofollow", "sponsored", "ugc", "sitewide", "first_seen", "last_seen", "lost_at",
    "external_links", "internal_links", "http_status", "page_authority", "domain_authority",
    "is_spam", "toxic_score", "url_key",
)  # fmt: skip


def url_key(source_url: str, target_url: str) -> str:
    """md5(source_url || E'\\n' || target_url) in hex: the link's key (see audit.models), as COPY text.

    Computed here rather than by PostgreSQL: the parsing side has time to spare while the
    database side of a big import is the busy one.
    """
    return hashlib.md5(f"{source_url}\n{target_url}".encode(), usedforsecurity=False).hexdigest()


def _backlink_formatter() -> Callable[[BacklinkRow], str]:
    """BacklinkRow → one line of COPY text (the columns of BACKLINK_STAGE_COLUMNS).

    The hot loop of an import: every value goes through a _Memo, so a row costs a regex
    match, a string build and ~15 dict lookups. Raises BadValue for a value PostgreSQL would refuse.
    """
    hosts = _Memo(host_and_domain, "source_url")
    link_types, nofollow_, sponsored_, ugc_, sitewide_, spam_ = (
        _Memo(_COLUMN_TEXT[name], name) for name in ("link_type", "nofollow", "sponsored", "ugc", "sitewide", "is_spam")
    )
    first_, last_, lost_ = (_Memo(_COLUMN_TEXT[name], name) for name in ("first_seen", "last_seen", "lost_at"))
    external_, internal_, http_ = (
        _Memo(_COLUMN_TEXT[name], name) for name in ("external_links", "internal_links", "http_status")
    )
    page_, domain_, toxic_ = (
        _Memo(_COLUMN_TEXT[name], name) for name in ("page_authority", "domain_authority", "toxic_score")
    )
    netloc_of = NETLOC.match

    def format_row(row: BacklinkRow) -> str:
        (line, source_url, target_url, anchor, title, link_type, nofollow, sponsored, ugc, sitewide,
         first_seen, last_seen, lost_at, external, internal, http_status, page_auth, domain_auth,
         is_spam, toxic) = row  # fmt: skip
        match = netloc_of(source_url)
        host, domain = hosts[match.group(1)] if match else _url_host_and_domain(source_url)
        if not target_url:
            raise BadValue("target_url", "empty target URL")
        text = f"{source_url}\t{target_url}\t{anchor}\t{title}"
        if text.count("\t") != 3 or "\\" in text or "\n" in text or "\r" in text or "\x00" in text:
            text = _escaped((source_url, target_url, anchor, title), _BACKLINK_TEXT_FIELDS)
        return (
            f"{line}\t{text}\t{host}\t{domain}\t{link_types[link_type]}\t{nofollow_[nofollow]}"
            f"\t{sponsored_[sponsored]}\t{ugc_[ugc]}\t{sitewide_[sitewide]}\t{first_[first_seen]}"
            f"\t{last_[last_seen]}\t{lost_[lost_at]}\t{external_[external]}\t{internal_[internal]}"
            f"\t{http_[http_status]}\t{page_[page_auth]}\t{domain_[domain_auth]}\t{spam_[is_spam]}"
            f"\t{toxic_[toxic]}\t{url_key(source_url, target_url)}\n"
        )

    return format_row


REFDOMAIN_STAGE_COLUMNS = (
    "line", "domain", "authority", "reported_backlinks", "ip", "country",
    "first_seen", "last_seen", "lost_at",
)  # fmt: skip


def _refdomain_formatter() -> Callable[[RefDomainRow], str]:
    """RefDomainRow → one line of COPY text (the columns of REFDOMAIN_STAGE_COLUMNS)."""
    authority_, reported_ = _int_check(100), _int_check(_INT_MAX)

    def format_row(row: RefDomainRow) -> str:
        line, name, authority, reported, ip, country, first_seen, last_seen, lost_at = row
        try:
            domain = domains.registrable_domain(name)
        except domains.DomainError as exc:
            raise BadValue("domain", str(exc)) from None
        if ip:
            try:
                ip = str(ipaddress.ip_address(ip.strip()))
            except ValueError:
                raise BadValue("ip", f"not an IP address: {ip!r}") from None
        if country and not re.fullmatch(r"[a-z]{2}", country):
            raise BadValue("country", f"not a two-letter country code: {country!r}")
        return (
            f"{line}\t{domain}\t{authority_(authority, 'authority')}"
            f"\t{reported_(reported, 'reported_backlinks')}"
            f"\t{ip or NULL}\t{country or ''}\t{_date_text(first_seen, 'first_seen')}"
            f"\t{_date_text(last_seen, 'last_seen')}\t{_date_text(lost_at, 'lost_at')}\n"
        )

    return format_row


# --- the load ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadTarget:
    """What is being loaded, for whom."""

    import_id: int
    site_id: int
    kind: ImportKind
    provider: Provider
    full_snapshot: bool
    import_date: dt.date


def load_rows(
    target: LoadTarget,
    rows: Iterable[BacklinkRow | RefDomainRow | LineError],
    *,
    result: LoadResult,
    bytes_read: Callable[[], int],
    progress: ProgressReporter,
    limits: LoadLimits,
) -> LoadResult:
    """Load one import's rows into the site's tables. Must run inside ``transaction.atomic``.

    Raises ImportRefused when too many rows are malformed or the file holds no usable row,
    ImportCancelled when a cancel was requested, and lets database errors through; in every
    case the caller rolls the transaction back. ``result`` is filled as the load goes, so
    the caller still has the counts and row errors when it fails.
    """
    stream = _Stream(rows, result=result, bytes_read=bytes_read, progress=progress, limits=limits)
    with connection.cursor() as cursor:
        # One import per site at a time: two merges of the same links would fight over them.
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, target.site_id])
        # Check the site foreign key as each merge ends (in the merge thread, overlapping the
        # parse) rather than a million deferred checks at COMMIT.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # Sorting and hashing a chunk's staged rows in memory beats spilling them to disk; the
        # chunk statements are planned anew each time and JIT-compiling them costs more than it saves.
        cursor.execute("SET LOCAL work_mem = '128MB'; SET LOCAL jit = off")
        try:
            if target.kind == ImportKind.BACKLINKS:
                _load_backlinks(cursor, target, stream)
            else:
                _load_refdomains(cursor, target, stream)
        finally:
            _phase.log(target.import_id)
    return result


@dataclass
class _Stream:
    """The rows of one load and what watches them go by."""

    rows: Iterable[BacklinkRow | RefDomainRow | LineError]
    result: LoadResult
    bytes_read: Callable[[], int]
    progress: ProgressReporter
    limits: LoadLimits

    def send(self, formatter: Callable[[Any], str], write: Callable[[bytes], None]) -> None:
        _stream(self.rows, formatter, write, self.result, bytes_read=self.bytes_read,
                progress=self.progress, limits=self.limits)  # fmt: skip

    def check_complete(self) -> None:
        """After the last row: refuse a file with too many bad rows or none usable; last cancel check."""
        _check_bad_ratio(self.result, self.limits)
        if self.result.rows_imported == 0:
            raise ImportRefused("the file holds no usable row: nothing was imported")
        if _publish(self.progress, self.result, self.bytes_read()):
            raise ImportCancelled()


def _load_refdomains(cursor: Any, target: LoadTarget, stream: _Stream) -> None:
    """Referring-domain exports are small: COPY them whole, then merge once."""
    stage = f"audit_import_stage_{target.import_id}"
    _create_stage(cursor, stage)
    with cursor.copy(f"COPY {stage} ({', '.join(REFDOMAIN_STAGE_COLUMNS)}) FROM STDIN") as copy:
        stream.send(_refdomain_formatter(), copy.write)
    stream.check_complete()
    _dedupe_stage(cursor, stage, "domain")
    _stage_new_tlds(cursor, f"SELECT domain FROM {stage}", target.site_id)
    _merge_refdomains(cursor, stage, target, stream.result)
    # A provider's word on a domain we hold live links from never makes it lost: recount them.
    _aggregate_refdomains(cursor, target.site_id, touched=stage)
    cursor.execute(f"DROP TABLE {stage}")


def _load_backlinks(cursor: Any, target: LoadTarget, stream: _Stream) -> None:
    """Backlinks are merged chunk by chunk in a second thread while this one parses on.

    A site's first import only inserts (nothing to compare with, nothing to lose) and then
    counts all its referring domains; a later one merges, marks missing links lost and
    recounts only the domains whose links it changed (none, when nothing changed).
    """
    tables = _BacklinkTables(target.import_id)
    connection.ensure_connection()
    with _ChunkMerger(connection.connection, tables, target) as merger:
        with _phase("parse and send (overlaps the chunk merges)"):
            stream.send(_backlink_formatter(), merger.write)
        with _phase("wait for the last chunks"):
            merger.finish()
    stream.result.rows_new = merger.rows_new
    stream.check_complete()
    if merger.site_was_new:
        with _phase("recount domains"):
            _aggregate_refdomains(cursor, target.site_id, touched=None)
    else:
        if target.full_snapshot:
            with _phase("mark lost"):
                cursor.execute(f"SELECT count(*) FROM {tables.keys}")  # distinct: later duplicates never got in
                stream.result.rows_lost = _mark_missing_lost(cursor, tables, target, cursor.fetchone()[0])
        with _phase("recount domains"):
            _aggregate_refdomains(cursor, target.site_id, touched=tables.domains)
    tables.drop(cursor)


@dataclass(frozen=True)
class _BacklinkTables:
    """Work tables of one backlink load, created and dropped inside its transaction.

    ``stage``: the current chunk's rows. Only when the site already has links: ``keys``, the
    url_key of every link of the export so far (to skip later duplicates, and to find the
    links it no longer lists), and ``domains``, the referring domains whose links the import
    inserted, changed or lost (the only ones whose counts can have changed).
    """

    import_id: int

    @property
    def stage(self) -> str:
        return f"audit_import_stage_{self.import_id}"

    @property
    def keys(self) -> str:
        return f"audit_import_keys_{self.import_id}"

    @property
    def domains(self) -> str:
        return f"audit_import_domains_{self.import_id}"

    def create(self, cursor: Any, site_id: int, *, merging: bool) -> None:
        _create_stage(cursor, self.stage, site_id)
        if not merging:
            return
        for table, body in ((self.keys, "url_key uuid NOT NULL"), (self.domains, "domain text PRIMARY KEY")):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute(f"CREATE UNLOGGED TABLE {table} ({body}) WITH (autovacuum_enabled = false)")
        cursor.execute(f"CREATE INDEX ON {self.keys} (url_key)")

    def drop(self, cursor: Any) -> None:
        cursor.execute(f"DROP TABLE IF EXISTS {self.stage}, {self.keys}, {self.domains}")


class _ChunkMerger:
    """Runs each chunk's COPY and merge on the import's own connection, in a worker thread.

    The parser (this process's main thread) and PostgreSQL then work at the same time on the
    machine's two cores. The caller must not use the connection until ``finish()`` or the
    ``with`` block has returned: until then the worker owns it. A bounded queue keeps at most
    a few chunks of COPY text in memory. A worker failure is re-raised in the caller.
    """

    def __init__(self, conn: psycopg.Connection, tables: _BacklinkTables, target: LoadTarget) -> None:
        self._conn = conn
        self._tables = tables
        self._target = target
        self._queue: queue.Queue[list[bytes] | None] = queue.Queue(maxsize=1)
        self._chunk: list[bytes] = []
        self._switch_interval = sys.getswitchinterval()
        self._thread = threading.Thread(
            target=self._work, name=f"link-import-{target.import_id}", daemon=True
        )
        self.error: BaseException | None = None
        self.rows_new = 0
        self.site_was_new = False
        self._merge_sql = _backlink_merge_sql(tables, target.provider)
        self._analyze_after_first = False

    def __enter__(self) -> _ChunkMerger:
        with self._conn.cursor() as cur:
            cur.execute(
                """SELECT NOT EXISTS (SELECT 1 FROM audit_backlink WHERE site_id = %s),
                          (SELECT reltuples < 1 FROM pg_class WHERE oid = 'audit_backlink'::regclass)""",
                [self._target.site_id],
            )
            self.site_was_new, table_looks_empty = cur.fetchone()
            self._tables.create(cur, self._target.site_id, merging=not self.site_was_new)
        if self.site_was_new:
            self._merge_sql = _backlink_new_site_sql(self._tables.stage, self._target.provider)
        # Statistics of an empty (or never analysed) table make every index look alike;
        # after the first chunk there is something to measure, so the probes plan well.
        self._analyze_after_first = bool(table_looks_empty)
        # The worker takes the GIL back after each of its many short waits on the socket;
        # with the default 5 ms switch interval it would queue behind the busy parser each time.
        sys.setswitchinterval(0.0002)
        self._thread.start()
        return self

    def write(self, text: bytes) -> None:
        """Takes one batch of COPY lines; hands a full chunk to the worker (waits if it is behind)."""
        self._chunk.append(text)
        if len(self._chunk) * COPY_BATCH_ROWS >= CHUNK_ROWS:
            self._submit()

    def _submit(self) -> None:
        self._raise_worker_error()
        chunk, self._chunk = self._chunk, []
        self._queue.put(chunk)

    def finish(self) -> None:
        """Merges what is left and waits for the worker; raises its error if it had one."""
        if self._chunk:
            self._submit()
        self._stop()
        self._raise_worker_error()

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if self._thread.is_alive():  # the caller failed mid-stream: drop queued work and stop
            while not self._queue.empty():
                self._queue.get_nowait()
            self._stop()
        sys.setswitchinterval(self._switch_interval)

    def _stop(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def _raise_worker_error(self) -> None:
        if self.error is not None:
            if isinstance(self.error, psycopg.Error):  # seen by the services like any ORM error
                raise DatabaseError(str(self.error)) from self.error
            raise self.error

    def _work(self) -> None:
        with self._conn.cursor() as cur:
            while (chunk := self._queue.get()) is not None:
                if self.error is None:
                    try:
                        self._merge_chunk(cur, chunk)
                    except BaseException as exc:  # handed to the caller's thread
                        self.error = exc

    def _merge_chunk(self, cur: psycopg.Cursor, chunk: list[bytes]) -> None:
        tables, params = self._tables, {"site": self._target.site_id, "bit": PROVIDER_BIT[self._target.provider]}
        with _phase("chunks: COPY into the stage"):
            cur.execute(f"TRUNCATE {tables.stage}")
            with cur.copy(f"COPY {tables.stage} ({', '.join(BACKLINK_STAGE_COLUMNS)}) FROM STDIN") as copy:
                for text in chunk:
                    copy.write(text)
        # Probe by key (a few page reads per row) rather than hash or scan whole tables for
        # every chunk. Plans are made from statistics that a big first import outruns: an
        # empty table looks cheap to rescan per row, and it is rescanned while this very
        # statement fills it (quadratic). The stage's constant site_id column (not a
        # literal) keeps the (site_id, url_key) index the obvious probe.
        cur.execute(
            "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; SET LOCAL enable_seqscan = off"
        )
        if self.site_was_new:
            # Nothing to compare with: one sorted insert of the links not inserted yet.
            with _phase("chunks: insert"):
                cur.execute(self._merge_sql, params)
            self.rows_new += cur.rowcount
        else:
            with _phase("chunks: merge"):
                cur.execute(self._merge_sql, params)
            inserted, recovered = cur.fetchone()
            self.rows_new += inserted + recovered
        cur.execute(
            "SET LOCAL enable_hashjoin = on; SET LOCAL enable_mergejoin = on; SET LOCAL enable_seqscan = on"
        )
        if self._analyze_after_first:
            self._analyze_after_first = False
            with _phase("chunks: analyze"):
                cur.execute("ANALYZE audit_backlink")


def _stream(
    rows: Iterable[BacklinkRow | RefDomainRow | LineError],
    formatter: Callable[[Any], str],
    write: Callable[[bytes], None],
    result: LoadResult,
    *,
    bytes_read: Callable[[], int],
    progress: ProgressReporter,
    limits: LoadLimits,
) -> None:
    """Format rows into COPY text and send them in batches; publish progress between batches."""
    batch: list[str] = []
    append = batch.append
    for item in rows:
        result.rows_read += 1
        if item.__class__ is str:  # already COPY text (an importer's fast path)
            append(item)
        elif item.__class__ is LineError:
            result.skip(item.line, item.field, item.message)
            _check_bad_count(result, limits)
            continue
        else:
            try:
                append(formatter(item))
            except BadValue as bad:
                result.skip(item.line, bad.field, bad.message)
                _check_bad_count(result, limits)
                continue
        if len(batch) >= COPY_BATCH_ROWS:
            result.rows_imported += len(batch)
            write("".join(batch).encode())  # bytes: a third of a non-ASCII str's memory
            batch.clear()
            if progress.due() and _publish(progress, result, bytes_read()):
                raise ImportCancelled()
    if batch:
        result.rows_imported += len(batch)
        write("".join(batch).encode())


def _publish(progress: ProgressReporter, result: LoadResult, bytes_read: int) -> bool:
    result.bytes_read = bytes_read
    return progress.publish(
        bytes_read=bytes_read, rows_read=result.rows_read, rows_skipped=result.rows_skipped
    )


def _check_bad_count(result: LoadResult, limits: LoadLimits) -> None:
    if result.rows_skipped > limits.max_bad_rows:
        raise ImportRefused(
            f"more than {limits.max_bad_rows} malformed rows (the import stops at the first "
            f"{limits.max_bad_rows + 1}): check that this is the export you meant to upload"
        )


def _check_bad_ratio(result: LoadResult, limits: LoadLimits) -> None:
    if result.rows_read < RATIO_MIN_ROWS or result.rows_skipped <= limits.max_bad_ratio * result.rows_read:
        return
    raise ImportRefused(
        f"{result.rows_skipped} of {result.rows_read} rows are malformed (more than "
        f"{limits.max_bad_ratio:.0%}): check that this is the export you meant to upload"
    )


def _create_stage(cursor: Any, stage: str, site_id: int | None = None) -> None:
    """An UNLOGGED table private to this import, created (and dropped) inside its transaction.

    Given a ``site_id``, it is a backlink stage (with that site as a constant column).
    """
    if site_id is not None:
        body = f"""
            site_id bigint NOT NULL DEFAULT {int(site_id)}, line integer NOT NULL,
            source_url text NOT NULL, target_url text NOT NULL,
            anchor text NOT NULL, source_title text NOT NULL, source_host text NOT NULL,
            source_domain text NOT NULL, link_type text NOT NULL, nofollow boolean NOT NULL,
            sponsored boolean NOT NULL, ugc boolean NOT NULL, sitewide boolean,
            first_seen date, last_seen date, lost_at date, external_links integer,
            internal_links integer, http_status smallint, page_authority smallint,
            domain_authority smallint, is_spam boolean, toxic_score smallint,
            url_key uuid NOT NULL
        """
    else:
        body = """
            line integer NOT NULL, domain text NOT NULL, authority smallint, reported_backlinks integer,
            ip inet, country text NOT NULL, first_seen date, last_seen date, lost_at date
        """
    # A crashed earlier attempt in the same (test) transaction may have left it behind.
    cursor.execute(f"DROP TABLE IF EXISTS {stage}")
    cursor.execute(f"CREATE UNLOGGED TABLE {stage} ({body}) WITH (autovacuum_enabled = false)")


# --- merging backlinks -------------------------------------------------------------------


# Stage column holding each backlink column's value, where the names differ.
_STAGE_COLUMN = {"ahrefs_is_spam": "is_spam", "semrush_toxic_score": "toxic_score"}


def _backlink_updates(provider: Provider) -> list[tuple[str, str]]:
    """(column, new value) for an existing link: ``b.`` is the stored row, ``e.`` the import's
    (staged) row, ``%(bit)s`` the provider's bit."""
    updates: list[tuple[str, str]] = []
    if provider not in _URL_ONLY_PROVIDERS:
        updates += [
            (c, f"e.{c}") for c in ("source_title", "anchor", "link_type", "nofollow", "sponsored", "ugc")
        ]
        updates += [(c, f"COALESCE(e.{c}, b.{c})") for c in ("sitewide", "external_links", "internal_links")]
        updates += [("http_status", "COALESCE(e.http_status, b.http_status)")]
    updates += [
        ("first_seen", "LEAST(b.first_seen, e.first_seen)"),
        ("last_seen", "GREATEST(b.last_seen, e.last_seen)"),
        # Reported live → live again; reported lost → lost since the earliest date we know.
        ("lost_at", "CASE WHEN e.lost_at IS NULL THEN NULL ELSE COALESCE(b.lost_at, e.lost_at) END"),
        ("providers", "(b.providers | %(bit)s)::smallint"),
    ]
    page_col, domain_col = _AUTHORITY_COLUMNS.get(provider, (None, None))
    sources = {page_col: "page_authority", domain_col: "domain_authority", **_STAGE_COLUMN}
    for column in (page_col, domain_col, "ahrefs_is_spam", "semrush_toxic_score"):
        if column:
            updates.append((column, f"COALESCE(e.{sources[column]}, b.{column})"))
    return updates


def _backlink_insert_sql(source: str, alias: str, *, select: str = "SELECT") -> str:
    """INSERT of every row of ``source`` (aliased ``alias``) as a new link of %(site)s."""
    return f"""
        INSERT INTO audit_backlink (
            site_id, url_key, source_url, source_host, source_domain, source_title, target_url,
            anchor, link_type, nofollow, sponsored, ugc, sitewide, first_seen, last_seen, lost_at,
            external_links, internal_links, http_status, ahrefs_is_spam, semrush_toxic_score,
            providers, created_at, updated_at, {{authority_cols}})
        {select} %(site)s, {alias}.url_key, {alias}.source_url, {alias}.source_host, {alias}.source_domain,
            {alias}.source_title, {alias}.target_url, {alias}.anchor, {alias}.link_type, {alias}.nofollow,
            {alias}.sponsored, {alias}.ugc, {alias}.sitewide, {alias}.first_seen, {alias}.last_seen,
            {alias}.lost_at, {alias}.external_links, {alias}.internal_links, {alias}.http_status,
            {alias}.is_spam, {alias}.toxic_score, %(bit)s, now(), now(), {{authority_vals}}
        FROM {source}"""


def _with_authority(sql: str, provider: Provider, alias: str) -> str:
    """Fill the provider's authority columns into an insert from _backlink_insert_sql."""
    page_col, domain_col = _AUTHORITY_COLUMNS.get(provider, (None, None))
    if page_col is None:
        return sql.replace(", {authority_cols}", "").replace(", {authority_vals}", "")
    values = f"{alias}.page_authority, {alias}.domain_authority"
    return sql.replace("{authority_cols}", f"{page_col}, {domain_col}").replace("{authority_vals}", values)


def _backlink_new_site_sql(stage: str, provider: Provider) -> str:
    """A chunk for a site that had no links before this import: everything is new.

    Within the chunk the first line of a link wins (DISTINCT ON ... ORDER BY line); a link
    an earlier chunk inserted already is skipped by one probe of the unique key (cheaper than
    ON CONFLICT's speculative insertion; the site's advisory lock keeps other writers out),
    so there is no key list to keep. In url_key order, so the unique index is filled left to
    right. The statement's row count is the number of new links.
    """
    source = (
        f"{stage} s WHERE NOT EXISTS (SELECT 1 FROM audit_backlink b"
        " WHERE b.site_id = s.site_id AND b.url_key = s.url_key) ORDER BY s.url_key, s.line"
    )
    return _with_authority(
        _backlink_insert_sql(source, "s", select="SELECT DISTINCT ON (s.url_key)"), provider, "s"
    )


def _backlink_merge_sql(tables: _BacklinkTables, provider: Provider) -> str:
    """One chunk's merge: update the links that changed, insert the new ones, leave the rest.

    One statement: the chunk's links not seen in an earlier chunk (``tables.keys``), first
    line first (DISTINCT ON ... ORDER BY line), are added to the key list and compared with
    the stored links. Rows that did not change are neither written nor locked (an ``ON
    CONFLICT DO UPDATE`` would lock, i.e. write, every one of them). No concurrent import can
    insert the same links meanwhile: imports of a site hold its advisory lock. The referring
    domains of the links written go to ``tables.domains``. Returns (inserted, recovered).
    """
    updates = _backlink_updates(provider)
    old = ", ".join(f"b.{column}" for column, _ in updates)
    new = _staged_as("s", ", ".join(value for _, value in updates))
    set_clause = _staged_as("m", ", ".join(f"{column} = {value}" for column, value in updates))
    insert = _with_authority(_backlink_insert_sql("m WHERE m.old_id IS NULL", "m"), provider, "m")
    return f"""
        WITH fresh AS MATERIALIZED (
            SELECT DISTINCT ON (s.url_key) s.* FROM {tables.stage} s
            WHERE NOT EXISTS (SELECT 1 FROM {tables.keys} k WHERE k.url_key = s.url_key)
            ORDER BY s.url_key, s.line
        ), keyed AS (
            INSERT INTO {tables.keys} SELECT url_key FROM fresh
        ), m AS MATERIALIZED (
            SELECT s.*, b.id AS old_id, b.lost_at AS old_lost_at,
                b.id IS NOT NULL AND ({old}) IS DISTINCT FROM ({new}) AS changed
            FROM fresh s LEFT JOIN audit_backlink b ON b.site_id = s.site_id AND b.url_key = s.url_key
        ), updated AS (
            UPDATE audit_backlink b SET {set_clause}, updated_at = now()
            FROM m WHERE m.changed AND b.id = m.old_id
            RETURNING m.old_lost_at IS NOT NULL AND b.lost_at IS NULL AS recovered, b.source_domain
        ), inserted AS ({insert} RETURNING source_domain), touched AS (
            INSERT INTO {tables.domains}
            SELECT DISTINCT source_domain FROM updated UNION SELECT source_domain FROM inserted
            ON CONFLICT DO NOTHING
        )
        SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FILTER (WHERE recovered) FROM updated)
    """


def _staged_as(alias: str, sql: str) -> str:
    """Spell the ``e.`` shorthand of the update lists (the import's row) with a real alias."""
    return re.sub(r"\be\.", f"{alias}.", sql)


def _excluded(sql: str) -> str:
    """Spell the ``e.`` shorthand of the update lists as PostgreSQL's EXCLUDED row."""
    return _staged_as("EXCLUDED", sql)


def _dedupe_stage(cursor: Any, stage: str, key: str, *, count: bool = True) -> int | None:
    """Keep only the first line of each key; return rows left.

    The first, not the last: a chunked merge has merged the first line before a later one
    turns up, and re-importing the same file must not write a row twice.
    """
    cursor.execute(
        f"""DELETE FROM {stage} s USING (
                SELECT {key} AS k, min(line) AS keep FROM {stage} GROUP BY {key} HAVING count(*) > 1
            ) d WHERE s.{key} = d.k AND s.line <> d.keep"""
    )
    if not count:
        return None
    cursor.execute(f"SELECT count(*) FROM {stage}")
    return cursor.fetchone()[0]


def _mark_missing_lost(cursor: Any, tables: _BacklinkTables, target: LoadTarget, links_in_export: int) -> int:
    """Clear the provider's bit on the site's links missing from this export; count newly lost.

    The referring domains of the links it changes go to ``tables.domains``.
    """
    bit = PROVIDER_BIT[target.provider]
    params = {"site": target.site_id, "bit": bit, "date": target.import_date}
    # Every link of the export now carries the bit: equal counts mean none is missing,
    # which spares re-imports an anti-join over the whole profile.
    cursor.execute(
        "SELECT count(*) FROM audit_backlink WHERE site_id = %(site)s AND providers & %(bit)s <> 0", params
    )
    if cursor.fetchone()[0] == links_in_export:
        return 0
    cursor.execute(
        f"""
        WITH missing AS MATERIALIZED (
            SELECT b.id, (b.providers & ~%(bit)s) = 0 AND b.lost_at IS NULL AS newly_lost
            FROM audit_backlink b
            WHERE b.site_id = %(site)s AND b.providers & %(bit)s <> 0
              AND NOT EXISTS (SELECT 1 FROM {tables.keys} k WHERE k.url_key = b.url_key)
        ), cleared AS (
            UPDATE audit_backlink b SET
                providers = (b.providers & ~%(bit)s)::smallint,
                lost_at = CASE WHEN (b.providers & ~%(bit)s) = 0
                               THEN COALESCE(b.lost_at, %(date)s) ELSE b.lost_at END,
                updated_at = now()
            FROM missing m WHERE b.id = m.id
            RETURNING b.source_domain
        ), touched AS (
            INSERT INTO {tables.domains} SELECT DISTINCT source_domain FROM cleared ON CONFLICT DO NOTHING
        )
        SELECT count(*) FILTER (WHERE newly_lost), (SELECT count(*) FROM cleared) FROM missing
        """,
        params,
    )
    return cursor.fetchone()[0]


# --- referring domains -------------------------------------------------------------------


def _merge_refdomains(cursor: Any, stage: str, target: LoadTarget, result: LoadResult) -> None:
    """Upsert a (deduplicated) referring-domains export: authority, count, IP, country, dates."""
    column = _REFDOMAIN_AUTHORITY_COLUMN.get(target.provider)
    auth_insert = f", {column}" if column else ""
    auth_value = ", s.authority" if column else ""
    updates = [
        ("reported_backlinks", "COALESCE(e.reported_backlinks, r.reported_backlinks)"),
        ("ip", "COALESCE(e.ip, r.ip)"),
        ("country", "COALESCE(NULLIF(e.country, ''), r.country)"),
        ("first_seen", "LEAST(r.first_seen, e.first_seen)"),
        ("last_seen", "GREATEST(r.last_seen, e.last_seen)"),
        ("lost_at", "CASE WHEN e.lost_at IS NULL THEN NULL ELSE COALESCE(r.lost_at, e.lost_at) END"),
    ]
    if column:
        updates.append((column, f"COALESCE(e.{column}, r.{column})"))
    sql = f"""
        WITH merged AS (
            INSERT INTO audit_refdomain AS r (site_id, domain, tld, backlinks, follow_backlinks,
                reported_backlinks, ip, country, first_seen, last_seen, lost_at{auth_insert})
            SELECT %(site)s, s.domain, COALESCE(t.tld, ''), 0, 0, s.reported_backlinks, s.ip, s.country,
                s.first_seen, s.last_seen, s.lost_at{auth_value}
            FROM {stage} s LEFT JOIN audit_import_tlds t ON t.domain = s.domain
            ON CONFLICT (site_id, domain) DO UPDATE SET {", ".join(f"{c} = {v}" for c, v in updates)}
            WHERE ({", ".join(f"r.{c}" for c, _ in updates)})
                IS DISTINCT FROM ({", ".join(v for _, v in updates)})
            RETURNING (xmax = 0) AS inserted
        )
        SELECT count(*) FILTER (WHERE inserted) FROM merged
    """
    cursor.execute(_excluded(sql), {"site": target.site_id})
    result.rows_new = cursor.fetchone()[0]


def _stage_new_tlds(cursor: Any, domains_sql: str, site_id: int) -> None:
    """Fill temp table audit_import_tlds with the public suffix of domains the site does not have yet."""
    cursor.execute("DROP TABLE IF EXISTS audit_import_tlds")
    cursor.execute(
        "CREATE TEMP TABLE audit_import_tlds (domain text PRIMARY KEY, tld text NOT NULL) ON COMMIT DROP"
    )
    cursor.execute(
        f"""SELECT d.domain FROM ({domains_sql}) d(domain)
            WHERE NOT EXISTS (
                SELECT 1 FROM audit_refdomain r WHERE r.site_id = %s AND r.domain = d.domain
            )""",
        [site_id],
    )
    names = [name for (name,) in cursor.fetchall()]
    with cursor.copy("COPY audit_import_tlds (domain, tld) FROM STDIN") as copy:
        for start in range(0, len(names), COPY_BATCH_ROWS):
            chunk = names[start : start + COPY_BATCH_ROWS]
            copy.write("".join(f"{name}\t{_tld(name)}\n" for name in chunk))


def _tld(domain: str) -> str:
    """The public suffix exactly as domains.tld_of_host names it ("" when it refuses the name)."""
    if domains.is_plain_host(domain):
        return domains.split_plain_host(domains.fold_www(domain))[1]
    try:
        return domains.tld_of_host(domain)
    except domains.DomainError:
        return ""


def refdomains_recount(*, site_id: int, domains: Iterable[str]) -> None:
    """Recount the site's referring ``domains`` from its backlinks, as an import does (created when new)."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS audit_recount_domains")
        cursor.execute("CREATE TEMP TABLE audit_recount_domains ON COMMIT DROP AS SELECT unnest(%s::text[]) AS domain",
                       [list(domains)])  # fmt: skip
        _aggregate_refdomains(cursor, site_id, touched="audit_recount_domains")
        cursor.execute("DROP TABLE audit_recount_domains")


def _aggregate_refdomains(cursor: Any, site_id: int, *, touched: str | None) -> None:
    """Recount the site's referring domains from its backlinks; write only what changed.

    ``touched`` names a table whose ``domain`` column lists the domains to recount: those
    whose links this import inserted, changed or lost (or that a referring-domains export
    named). The others cannot have changed: every import recounts what it touched, and a
    recount of unchanged links writes nothing. None recounts every domain (a site's first
    import). New domains get their public suffix computed here, once each.
    """
    only = f"AND source_domain IN (SELECT domain FROM {touched})" if touched else ""
    cursor.execute("DROP TABLE IF EXISTS audit_import_counts")
    with _phase("recount domains: count"):
        cursor.execute(
            f"""CREATE TEMP TABLE audit_import_counts ON COMMIT DROP AS
                SELECT source_domain::text AS domain,
                    count(*) FILTER (WHERE lost_at IS NULL) AS live,
                    count(*) FILTER (WHERE lost_at IS NULL AND NOT nofollow) AS follow,
                    min(first_seen) AS first_seen, max(last_seen) AS last_seen, max(lost_at) AS lost_at,
                    max(semrush_domain_ascore) AS semrush, max(ahrefs_dr) AS ahrefs, max(majestic_tf) AS majestic
                FROM audit_backlink WHERE site_id = %s {only} GROUP BY source_domain""",
            [site_id],
        )
    with _phase("recount domains: suffixes of new domains"):
        _stage_new_tlds(cursor, "SELECT domain FROM audit_import_counts", site_id)
    updates = [
        ("backlinks", "e.backlinks"),
        ("follow_backlinks", "e.follow_backlinks"),
        ("first_seen", "LEAST(r.first_seen, e.first_seen)"),
        ("last_seen", "GREATEST(r.last_seen, e.last_seen)"),
        ("lost_at", "CASE WHEN e.backlinks > 0 THEN NULL ELSE COALESCE(r.lost_at, e.lost_at) END"),
        ("semrush_ascore", "COALESCE(e.semrush_ascore, r.semrush_ascore)"),
        ("ahrefs_dr", "COALESCE(e.ahrefs_dr, r.ahrefs_dr)"),
        ("majestic_tf", "COALESCE(e.majestic_tf, r.majestic_tf)"),
    ]
    sql = f"""
        INSERT INTO audit_refdomain AS r (site_id, domain, tld, country, backlinks, follow_backlinks,
            first_seen, last_seen, lost_at, semrush_ascore, ahrefs_dr, majestic_tf)
        SELECT %(site)s, a.domain, COALESCE(t.tld, ''), '', a.live, a.follow, a.first_seen, a.last_seen,
            CASE WHEN a.live = 0 THEN a.lost_at END, a.semrush, a.ahrefs, a.majestic
        FROM audit_import_counts a LEFT JOIN audit_import_tlds t ON t.domain = a.domain
        ORDER BY a.domain  -- the unique and the gap index lead with the domain: fill them in order
        ON CONFLICT (site_id, domain) DO UPDATE SET {", ".join(f"{c} = {v}" for c, v in updates)}
        WHERE ({", ".join(f"r.{c}" for c, _ in updates)})
            IS DISTINCT FROM ({", ".join(v for _, v in updates)})
    """
    with _phase("recount domains: write"):
        cursor.execute(_excluded(sql), {"site": site_id})
    cursor.execute("DROP TABLE audit_import_tlds, audit_import_counts")
