"""Streaming reader for export files: compression, encoding, delimiter, physical line numbers.

``open_export(stream, max_bytes=...)`` looks at the first bytes only, then hands back an
``ExportReader`` whose iteration yields ``(line_number, cells)`` one row at a time; the file
is never held in memory. What it accepts:

- plain, gzip (``1f 8b``) or zip (``PK``; exactly one data file inside) input, whatever the
  file is called. Decompressed bytes are capped at ``max_bytes`` and the compression ratio at
  ``max_ratio`` (a zip bomb is refused long before it fills memory or disk);
- UTF-8 with or without BOM, UTF-16 LE/BE with BOM (Ahrefs), and UTF-16 without BOM when the
  NUL bytes give it away. Anything else that is not valid UTF-8 (Latin-1, Windows-1252 ...)
  is refused with the line where decoding failed;
- ``,`` ``;`` or TAB, sniffed from the header line (quoted text ignored). A first line
  ``sep=;`` (Excel's hint) is honoured and skipped.

Line numbers are physical lines of the decoded text (the header is line 1 unless blank lines
or ``sep=`` come first), counting the lines inside multi-line quoted fields, so the number a
user sees is the one their editor shows. Only ``\\n`` ends a line (``\\r\\n`` works too).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import functools
import gzip
import io
import itertools
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, TypeVar

from audit.importers.base import ImportRefused

T = TypeVar("T")
U = TypeVar("U")

DELIMITERS = (",", ";", "\t")
DEFAULT_MAX_RATIO = 200
# Below this many decompressed bytes the ratio is not judged: a small, very repetitive CSV
# can legitimately compress 500:1, and so little data cannot hurt anyone.
RATIO_GRACE_BYTES = 8 * 1024 * 1024
_READ_SIZE = 1 << 16
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}

# No line is read whole past _MAX_LINE, or a file without newlines would be loaded into
# memory at once. A longer line comes out in pieces; a piece that long cannot be a valid row
# (csv refuses fields over 128 KB and the widest export has 37 columns), so it surfaces as a
# row or CSV error rather than passing silently. A header past 1 MB is refused outright.
_MAX_LINE = 16 * 1024 * 1024
_MAX_HEADER_LINE = 1024 * 1024


def human_size(size: int) -> str:
    """``1536`` → ``1.5 KB``: sizes in messages people read."""
    if size < 1024:
        return f"{size} bytes"
    value = size / 1024
    for unit in ("KB", "MB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


class _CountingSource(io.RawIOBase):
    """Raw stream over ``read``; counts bytes and enforces the size and ratio limits.

    ``compressed_read`` reports how many compressed bytes produced what was read so far
    (None for plain input), which is what the ratio check compares against.
    """

    def __init__(
        self,
        read: Callable[[int], bytes],
        *,
        max_bytes: int,
        max_ratio: int,
        compressed: bool = False,
        compressed_read: Callable[[], int] | None = None,
    ) -> None:
        super().__init__()
        self._read = read
        self._max_bytes = max_bytes
        self._max_ratio = max_ratio
        self._compressed = compressed
        self._compressed_read = compressed_read
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self._read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.count += size
        if self.count > self._max_bytes:
            raise ImportRefused(
                f"the file is larger than the limit of {human_size(self._max_bytes)}"
                + (" once decompressed" if self._compressed else "")
            )
        if self._compressed_read is not None and self.count > RATIO_GRACE_BYTES:
            self._check_ratio()
        return size

    def _check_ratio(self) -> None:
        assert self._compressed_read is not None
        compressed = max(self._compressed_read(), 1)
        if self.count / compressed > self._max_ratio:
            raise ImportRefused(
                f"the compressed file expands more than {self._max_ratio} times "
                "(a compression bomb?); it was refused"
            )


class _CountingReader:
    """Wraps the compressed stream for gzip so the ratio check knows how much was consumed."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.count += len(data)
        return data

    def readable(self) -> bool:
        return True


class _Prefixed:
    """A non-seekable stream with bytes already peeked put back in front."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head = head
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        if self._head:
            if size < 0:
                data, self._head = self._head + self._stream.read(), b""
                return data
            data, self._head = self._head[:size], self._head[size:]
            return data
        return self._stream.read(size)

    def readable(self) -> bool:
        return True


def _remaining_size(stream: BinaryIO) -> int | None:
    """Bytes from the current position to the end, when the stream can tell."""
    try:
        if not stream.seekable():
            return None
        start = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(start)
        return end - start
    except (OSError, AttributeError, ValueError):
        return None


def _peek_head(stream: BinaryIO, size: int) -> tuple[bytes, BinaryIO]:
    """The first ``size`` bytes, and a stream that still starts at them."""
    seekable = False
    with contextlib.suppress(AttributeError, ValueError):
        seekable = stream.seekable()
    if seekable:
        start = stream.tell()
        head = stream.read(size)
        stream.seek(start)
        return head, stream
    head = stream.read(size)
    return head, _Prefixed(head, stream)  # type: ignore[return-value]


@dataclass
class _Decompressed:
    """What ``_open_decompressed`` found: the byte source and what is known about its size."""

    source: _CountingSource
    total_bytes: int | None
    compression: str  # "", "gzip" or "zip"
    progress: Callable[[], float | None]
    closers: list[Callable[[], None]]


def _open_plain(stream: BinaryIO, *, max_bytes: int, max_ratio: int) -> _Decompressed:
    total = _remaining_size(stream)
    if total is not None and total > max_bytes:
        raise ImportRefused(f"the file is {human_size(total)}; the limit is {human_size(max_bytes)}")
    source = _CountingSource(stream.read, max_bytes=max_bytes, max_ratio=max_ratio)

    def progress() -> float | None:
        return min(source.count / total, 1.0) if total else None

    return _Decompressed(source, total_bytes=total, compression="", progress=progress, closers=[])


def _open_gzip(stream: BinaryIO, *, max_bytes: int, max_ratio: int) -> _Decompressed:
    compressed_total = _remaining_size(stream)
    counter = _CountingReader(stream)
    gz = gzip.GzipFile(fileobj=counter, mode="rb")  # type: ignore[arg-type]

    def read(size: int) -> bytes:
        try:
            return gz.read(size)
        except (OSError, EOFError, zlib.error) as exc:
            raise ImportRefused(f"the gzip data is damaged or truncated ({exc})") from None

    source = _CountingSource(
        read, max_bytes=max_bytes, max_ratio=max_ratio, compressed=True, compressed_read=lambda: counter.count
    )

    def progress() -> float | None:
        return min(counter.count / compressed_total, 1.0) if compressed_total else None

    return _Decompressed(source, total_bytes=None, compression="gzip", progress=progress, closers=[gz.close])


def _zip_member(archive: zipfile.ZipFile) -> zipfile.ZipInfo:
    """The one data file in the archive; folders, macOS resource forks and dotfiles are ignored."""
    members = [
        info
        for info in archive.infolist()
        if not info.is_dir()
        and not info.filename.startswith("__MACOSX/")
        and not info.filename.rsplit("/", 1)[-1].startswith(".")
    ]
    if not members:
        raise ImportRefused("the zip file contains no file to import")
    if len(members) > 1:
        names = ", ".join(info.filename for info in members[:5]) + (", ..." if len(members) > 5 else "")
        raise ImportRefused(
            f"the zip file contains {len(members)} files ({names}); upload one export at a time"
        )
    return members[0]


def _check_zip_member(info: zipfile.ZipInfo, *, max_bytes: int, max_ratio: int) -> None:
    """Refuse from the declared sizes before inflating anything (streaming re-checks them)."""
    if info.flag_bits & 0x1:
        raise ImportRefused(f"{info.filename} in the zip file is encrypted; upload it unencrypted")
    if info.file_size > max_bytes:
        raise ImportRefused(
            f"{info.filename} is {human_size(info.file_size)} once decompressed; "
            f"the limit is {human_size(max_bytes)}"
        )
    if info.file_size > RATIO_GRACE_BYTES and info.file_size / max(info.compress_size, 1) > max_ratio:
        raise ImportRefused(
            f"{info.filename} expands more than {max_ratio} times "
            "(a compression bomb?); it was refused"
        )


def _open_zip(stream: BinaryIO, *, max_bytes: int, max_ratio: int) -> _Decompressed:
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ImportRefused(f"the zip file cannot be read ({exc})") from None
    try:
        info = _zip_member(archive)
        _check_zip_member(info, max_bytes=max_bytes, max_ratio=max_ratio)
        member = archive.open(info)
    except (NotImplementedError, RuntimeError, zipfile.BadZipFile) as exc:
        archive.close()
        raise ImportRefused(f"the file in the zip cannot be extracted ({exc})") from None
    except ImportRefused:
        archive.close()
        raise

    def read(size: int) -> bytes:
        try:
            return member.read(size)
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
            raise ImportRefused(f"the zip data is damaged ({exc})") from None

    # zipfile never inflates past the declared size, so _check_zip_member's look at the
    # declared sizes is the ratio check; the running count still enforces max_bytes.
    source = _CountingSource(read, max_bytes=max_bytes, max_ratio=max_ratio, compressed=True)

    def progress() -> float | None:
        return min(source.count / info.file_size, 1.0) if info.file_size else None

    return _Decompressed(
        source, total_bytes=info.file_size, compression="zip", progress=progress,
        closers=[member.close, archive.close],
    )


def _open_decompressed(stream: BinaryIO, *, max_bytes: int, max_ratio: int) -> _Decompressed:
    head, stream = _peek_head(stream, 4)
    if head[:2] == b"\x1f\x8b":
        return _open_gzip(stream, max_bytes=max_bytes, max_ratio=max_ratio)
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
        return _open_zip(stream, max_bytes=max_bytes, max_ratio=max_ratio)
    return _open_plain(stream, max_bytes=max_bytes, max_ratio=max_ratio)


def _detect_encoding(head: bytes) -> tuple[str, int]:
    """(codec name, BOM length) from the first bytes; UTF-8 unless something says otherwise."""
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise ImportRefused("the file is UTF-32 encoded; export or save it as UTF-8")
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", 3
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", 2
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2
    # UTF-16 without a BOM: ASCII text shows as every other byte NUL.
    if len(head) >= 4 and head[1] == 0 and head[3] == 0 and head[0] and head[2]:
        return "utf-16-le", 0
    if len(head) >= 4 and head[0] == 0 and head[2] == 0 and head[1] and head[3]:
        return "utf-16-be", 0
    return "utf-8", 0


def _sniff_delimiter(line: str) -> str:
    """The delimiter that appears most outside quotes in the header line (``,`` when none)."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _utf8_error(exc: UnicodeDecodeError, line: int) -> ImportRefused:
    bad = exc.object[exc.start : exc.start + 1].hex() if isinstance(exc.object, bytes) else "?"
    return ImportRefused(
        f"the file is not UTF-8 text (byte 0x{bad} at column {exc.start + 1} cannot be decoded); "
        "export it again as UTF-8, or save it from your spreadsheet as 'CSV UTF-8'",
        line=line,
    )


class ExportReader:
    """An opened export: header facts up front, then ``(line_number, cells)`` rows on iteration.

    Blank lines and rows whose cells are all empty (spreadsheet leftovers) are skipped.
    Rows with the wrong number of cells are yielded as they are: converters report them.
    Iterate once; ``close()`` (or ``with``) releases the decompressor.
    """

    header: list[str]
    normalized_header: list[str]
    delimiter: str
    encoding: str
    compression: str
    header_line: int

    def __init__(self, decompressed: _Decompressed, *, encoding: str, lines: Iterator[str],
                 header_line: int, delimiter: str) -> None:
        self._decompressed = decompressed
        self.encoding = encoding
        self.compression = decompressed.compression
        self.delimiter = delimiter
        self.header_line = header_line
        self._lines_before = header_line - 1
        self._csv = csv.reader(lines, delimiter=delimiter)
        self._started = False
        header = self._read_header()
        self.header = header
        self.normalized_header = [normalize_header_cell(cell) for cell in header]
        self._first = self._read_first_row()

    # -- progress -------------------------------------------------------------------------
    @property
    def bytes_read(self) -> int:
        """Decompressed bytes consumed so far (runs a buffer ahead of the rows yielded)."""
        return self._decompressed.source.count

    @property
    def total_bytes(self) -> int | None:
        """Decompressed size when known (plain files, zip members); None for gzip."""
        return self._decompressed.total_bytes

    def fraction_done(self) -> float | None:
        """0..1 for a progress bar; for gzip it follows the compressed input."""
        return self._decompressed.progress()

    @property
    def delimiter_name(self) -> str:
        return _DELIMITER_NAMES[self.delimiter]

    # -- reading --------------------------------------------------------------------------
    def _next_record(self) -> tuple[int, list[str]] | None:
        """The next non-blank record and its first physical line, or None at the end."""
        reader = self._csv
        while True:
            before = reader.line_num
            try:
                cells = next(reader)
            except StopIteration:
                return None
            except UnicodeDecodeError as exc:
                raise self._decode_error(exc, before + 1) from None
            except csv.Error as exc:
                line = self._lines_before + before + 1
                raise ImportRefused(f"the file is not valid CSV: {exc}", line=line) from None
            if cells and (cells[0] or any(cells)):
                return self._lines_before + before + 1, cells

    def _read_header(self) -> list[str]:
        record = self._next_record()
        if record is None:
            raise ImportRefused("the file is empty")
        line, cells = record
        self.header_line = line
        return cells

    def _read_first_row(self) -> tuple[int, list[str]]:
        record = self._next_record()
        if record is None:
            raise ImportRefused(
                "the file has a header but no rows: there is nothing to import "
                "(an empty export is refused so it cannot mark every known link as lost)"
            )
        return record

    def _decode_error(self, exc: UnicodeDecodeError, line: int) -> ImportRefused:
        if self.encoding.startswith("utf-16"):
            return ImportRefused(
                f"the file is not valid {self.encoding.upper()} text near this line ({exc.reason})", line=line
            )
        return _utf8_error(exc, line)

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        """``(line_number, cells)`` for every row, the first one included."""
        return self.convert_rows(lambda line, cells: (line, cells), catch=())

    def convert_rows(
        self, convert: Callable[[int, list[str]], T], *, catch: tuple[type[Exception], ...],
        on_error: Callable[[int, Exception], U] | None = None,
    ) -> Iterator[T | U]:
        """``convert(line, cells)`` for every row; an exception in ``catch`` becomes ``on_error(line, exc)``.

        One generator does the reading and the converting: at a million rows, every layer
        of generators between the CSV parser and the loader costs seconds.
        """
        if self._started:
            raise RuntimeError("an ExportReader can be iterated only once")
        self._started = True
        first_line, first_cells = self._first
        try:
            yield convert(first_line, first_cells)
        except catch as exc:
            yield on_error(first_line, exc)  # type: ignore[misc]
        reader = self._csv
        offset = self._lines_before
        previous = reader.line_num
        try:
            for cells in reader:
                line = offset + previous + 1
                previous = reader.line_num
                # Blank lines and ",,,," rows left by spreadsheets are not rows.
                if cells and (cells[0] or any(cells)):
                    try:
                        yield convert(line, cells)
                    except catch as exc:
                        yield on_error(line, exc)  # type: ignore[misc]
        except UnicodeDecodeError as exc:
            raise self._decode_error(exc, offset + reader.line_num + 1) from None
        except csv.Error as exc:
            raise ImportRefused(f"the file is not valid CSV: {exc}", line=offset + reader.line_num) from None

    def close(self) -> None:
        for close in self._decompressed.closers:
            close()

    def __enter__(self) -> ExportReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def normalize_header_cell(cell: str) -> str:
    """How headers are compared: trimmed (also of a stray BOM) and case-folded."""
    return cell.strip().lstrip("\ufeff").strip().casefold()


def _utf8_lines(buffered: io.BufferedReader, bom: int) -> Iterator[str]:
    """Decoded lines of a UTF-8 stream; a bad byte raises when its line is reached.

    ``map(bytes.decode, iter(partial(readline, n), b""))`` keeps the per-line work in C,
    which is most of the speed.
    """
    first = buffered.readline(_MAX_LINE)
    try:
        first_text = first[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _utf8_error(exc, 1) from None
    rest = iter(functools.partial(buffered.readline, _MAX_LINE), b"")
    return itertools.chain((first_text,), map(bytes.decode, rest))


def _utf16_lines(buffered: io.BufferedReader, encoding: str, bom: int) -> Iterator[str]:
    buffered.read(bom)
    text = io.TextIOWrapper(buffered, encoding=encoding, errors="strict", newline="\n")
    return iter(functools.partial(text.readline, _MAX_LINE // 2), "")


def _skip_preamble(lines: Iterator[str]) -> tuple[Iterator[str], int, str | None]:
    """Skips leading blank lines and Excel's ``sep=X`` hint.

    Returns the lines starting with the header, how many lines came before it, and the
    delimiter the hint named (if any).
    """
    skipped = 0
    for line in lines:
        stripped = line.strip("\r\n").strip()
        if not stripped:
            skipped += 1
            continue
        if stripped.lower().startswith("sep=") and len(stripped) == 5 and stripped[4] in DELIMITERS:
            return lines, skipped + 1, stripped[4]
        return itertools.chain((line,), lines), skipped, None
    return iter(()), skipped, None


def open_export(stream: BinaryIO, *, max_bytes: int, max_ratio: int = DEFAULT_MAX_RATIO) -> ExportReader:
    """Opens an export for streaming; raises ImportRefused for anything it cannot read.

    Reads only the header and the first row before returning, so it is also how an upload
    is checked before it is queued.
    """
    decompressed = _open_decompressed(stream, max_bytes=max_bytes, max_ratio=max_ratio)
    buffered = io.BufferedReader(decompressed.source, buffer_size=_READ_SIZE)
    try:
        encoding, bom = _detect_encoding(buffered.peek(4)[:4])
        if encoding.startswith("utf-16"):
            lines = _utf16_lines(buffered, encoding, bom)
        else:
            lines = _utf8_lines(buffered, bom)
        try:
            lines, skipped, hinted = _skip_preamble(lines)
            first, lines = _peek_line(lines)
        except UnicodeDecodeError as exc:
            message = f"the file is not valid {encoding.upper()} text ({exc.reason})"
            raise ImportRefused(message, line=1) from None
        if len(first) > _MAX_HEADER_LINE:
            message = "the header line is longer than 1 MB: this is not a CSV export"
            raise ImportRefused(message, line=skipped + 1)
        delimiter = hinted or _sniff_delimiter(first)
        return ExportReader(
            decompressed, encoding=encoding, lines=lines, header_line=skipped + 1, delimiter=delimiter
        )
    except BaseException:
        for close in decompressed.closers:
            close()
        raise


def _peek_line(lines: Iterator[str]) -> tuple[str, Iterator[str]]:
    first = next(lines, "")
    return first, itertools.chain((first,), lines) if first else iter(())
