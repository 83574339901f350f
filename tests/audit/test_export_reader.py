"""The export reader: encodings, compression, delimiters, line numbers and the limits."""

from __future__ import annotations

import codecs
import gzip
import io
import zipfile
from pathlib import Path

import pytest

from audit.importers.base import ImportRefused
from audit.importers.reader import RATIO_GRACE_BYTES, open_export

MB = 1024 * 1024
LIMIT = 64 * MB
TEXT = "Source url,Target url,Anchor\nhttps://a.example/1,https://site.test/,one\nhttps://b.example/2,https://site.test/x,two\n"
ROWS = [
    (2, ["https://a.example/1", "https://site.test/", "one"]),
    (3, ["https://b.example/2", "https://site.test/x", "two"]),
]


def read(data: bytes, **kwargs: int) -> tuple[object, list[tuple[int, list[str]]]]:
    reader = open_export(io.BytesIO(data), max_bytes=kwargs.pop("max_bytes", LIMIT), **kwargs)
    return reader, list(reader)


class Unseekable(io.RawIOBase):
    """A pipe-like stream: no seek, no size (uploads streamed from elsewhere)."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# -- encodings --------------------------------------------------------------------------------
def test_it_reads_plain_utf8_with_header_facts() -> None:
    reader, rows = read(TEXT.encode())
    assert reader.header == ["Source url", "Target url", "Anchor"]
    assert reader.normalized_header == ["source url", "target url", "anchor"]
    assert (reader.delimiter, reader.encoding, reader.compression) == (",", "utf-8", "")
    assert rows == ROWS


def test_it_strips_a_utf8_bom() -> None:
    reader, rows = read(codecs.BOM_UTF8 + TEXT.encode())
    assert reader.header[0] == "Source url"
    assert reader.encoding == "utf-8-sig"
    assert rows == ROWS


@pytest.mark.parametrize(
    ("bom", "codec"),
    [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"), (b"", "utf-16-le")],
)
def test_it_reads_utf16_tab_separated_quoted_like_ahrefs(bom: bytes, codec: str) -> None:
    text = '"Referring page URL"\t"Anchor"\n"https://ä.example/1"\t"Grüße, \tmit Tab"\n'
    reader, rows = read(bom + text.encode(codec))
    assert reader.encoding == codec
    assert reader.delimiter == "\t"
    assert rows == [(2, ["https://ä.example/1", "Grüße, \tmit Tab"])]


def test_it_refuses_latin1_naming_the_line() -> None:
    data = TEXT.encode() + "https://c.example/3,https://site.test/,caf\u00e9\n".encode("latin-1")
    reader = open_export(io.BytesIO(data), max_bytes=LIMIT)
    with pytest.raises(ImportRefused) as refused:
        list(reader)
    assert refused.value.line == 4
    assert "not UTF-8" in refused.value.message and "0xe9" in refused.value.message


def test_it_refuses_a_latin1_header_at_line_1() -> None:
    with pytest.raises(ImportRefused) as refused:
        open_export(io.BytesIO("Fuente,Página\nx,y\n".encode("latin-1")), max_bytes=LIMIT)
    assert refused.value.line == 1


def test_it_refuses_utf32() -> None:
    with pytest.raises(ImportRefused, match="UTF-32"):
        open_export(io.BytesIO(codecs.BOM_UTF32_LE + TEXT.encode("utf-32-le")), max_bytes=LIMIT)


# -- delimiters and headers -------------------------------------------------------------------
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_it_sniffs_the_delimiter_ignoring_quoted_text(delimiter: str) -> None:
    other = ";" if delimiter == "," else ","
    header = delimiter.join([f'"a{other}b{other}c"', "Target url", "Anchor"])
    reader, rows = read(f"{header}\nx{delimiter}y{delimiter}z\n".encode())
    assert reader.delimiter == delimiter
    assert reader.header == [f"a{other}b{other}c", "Target url", "Anchor"]
    assert rows == [(2, ["x", "y", "z"])]


def test_a_single_column_file_is_comma_separated() -> None:
    reader, rows = read(b"Linking page\nhttps://a.example/\n")
    assert reader.delimiter == ","
    assert rows == [(2, ["https://a.example/"])]


def test_it_honours_an_excel_sep_line_and_counts_it() -> None:
    reader, rows = read(b"sep=;\nSource url;Anchor\nhttps://a.example/;x,y\n")
    assert reader.delimiter == ";"
    assert reader.header == ["Source url", "Anchor"]
    assert rows == [(3, ["https://a.example/", "x,y"])]


def test_header_cells_are_trimmed_and_case_folded_for_detection_only() -> None:
    reader, _rows = read(b"Source URL ,  Target url,ANCHOR\nx,y,z\n")
    assert reader.header == ["Source URL ", "  Target url", "ANCHOR"]
    assert reader.normalized_header == ["source url", "target url", "anchor"]


# -- line numbers -----------------------------------------------------------------------------
def test_line_numbers_are_physical_lines_with_multiline_fields() -> None:
    data = (
        b"Source url,Anchor\r\n"
        b'https://a.example/,"first\r\nsecond\r\nthird"\r\n'
        b"https://b.example/,plain\r\n"
        b'https://c.example/,"x\ny"\r\n'
        b"https://d.example/,last\r\n"
    )
    _reader, rows = read(data)
    assert [line for line, _cells in rows] == [2, 5, 6, 8]
    assert rows[0][1] == ["https://a.example/", "first\r\nsecond\r\nthird"]
    assert rows[1][1] == ["https://b.example/", "plain"]  # no stray \r


def test_blank_lines_and_empty_spreadsheet_rows_are_skipped_but_counted() -> None:
    data = b"\n\nSource url,Anchor\nhttps://a.example/,a\n\n,\n ,\nhttps://b.example/,b\n"
    reader, rows = read(data)
    assert reader.header_line == 3
    # " ," is not empty (a space): it is yielded for the converter to judge.
    assert rows == [(4, ["https://a.example/", "a"]), (7, [" ", ""]), (8, ["https://b.example/", "b"])]


def test_rows_with_the_wrong_number_of_cells_are_yielded_as_they_are() -> None:
    _reader, rows = read(b"a,b,c\n1,2\n1,2,3,4\n")
    assert rows == [(2, ["1", "2"]), (3, ["1", "2", "3", "4"])]


# -- empty files ------------------------------------------------------------------------------
@pytest.mark.parametrize("data", [b"", b"\n\n\r\n", codecs.BOM_UTF8])
def test_it_refuses_an_empty_file(data: bytes) -> None:
    with pytest.raises(ImportRefused, match="the file is empty"):
        open_export(io.BytesIO(data), max_bytes=LIMIT)


def test_it_refuses_a_header_without_rows() -> None:
    with pytest.raises(ImportRefused, match="has a header but no rows"):
        open_export(io.BytesIO(b"Source url,Anchor\n\n,\n"), max_bytes=LIMIT)


# -- size limits ------------------------------------------------------------------------------
def test_it_refuses_a_file_over_max_bytes_before_reading_it() -> None:
    with pytest.raises(ImportRefused, match="the limit is"):
        open_export(io.BytesIO(TEXT.encode()), max_bytes=50)


def test_it_refuses_a_stream_that_grows_past_max_bytes_while_reading() -> None:
    data = TEXT.encode() + b"https://x.example/,https://site.test/,more\n" * 5000
    reader = open_export(io.BufferedReader(Unseekable(data)), max_bytes=100_000)
    assert reader.total_bytes is None
    with pytest.raises(ImportRefused, match="larger than the limit"):
        list(reader)


def test_a_line_without_end_is_refused_not_loaded_whole() -> None:
    with pytest.raises(ImportRefused, match="longer than 1 MB"):
        open_export(io.BytesIO(b"a" * (2 * MB)), max_bytes=LIMIT)


def test_progress_counts_bytes_up_to_the_total() -> None:
    data = TEXT.encode()
    reader, _rows = read(data)
    assert reader.total_bytes == len(data)
    assert reader.bytes_read == len(data)
    assert reader.fraction_done() == 1.0


# -- compression ------------------------------------------------------------------------------
def test_it_reads_gzip_transparently() -> None:
    data = TEXT.encode()
    reader, rows = read(gzip.compress(data))
    assert reader.compression == "gzip"
    assert rows == ROWS
    assert reader.bytes_read == len(data)  # decompressed bytes
    assert reader.fraction_done() == 1.0


def test_it_reads_a_zip_with_one_csv_ignoring_folders_and_macos_debris() -> None:
    data = zip_of({"export/": b"", "export/links.csv": TEXT.encode(), "__MACOSX/export/._links.csv": b"\0\1"})
    reader, rows = read(data)
    assert reader.compression == "zip"
    assert reader.total_bytes == len(TEXT.encode())
    assert rows == ROWS


def test_it_refuses_a_zip_with_several_files_naming_them() -> None:
    with pytest.raises(ImportRefused, match=r"2 files \(a.csv, b.csv\)"):
        read(zip_of({"a.csv": TEXT.encode(), "b.csv": TEXT.encode()}))


def test_it_refuses_an_empty_zip() -> None:
    with pytest.raises(ImportRefused, match="no file"):
        read(zip_of({}))


def test_it_refuses_an_encrypted_zip_member() -> None:
    data = bytearray(zip_of({"links.csv": TEXT.encode()}))
    # zipfile cannot write encrypted members: set the "encrypted" bit in the local and central headers.
    data[6] |= 0x1
    data[data.index(b"PK\x01\x02") + 8] |= 0x1
    with pytest.raises(ImportRefused, match="encrypted"):
        read(bytes(data))


def test_it_refuses_a_damaged_gzip() -> None:
    broken = gzip.compress(TEXT.encode() * 200)[:-40]
    with pytest.raises(ImportRefused, match="damaged or truncated"):
        read(broken)


def _zip_bomb(size: int) -> bytes:
    """A real zip whose one member is ``size`` bytes of one repeated line (deflate ~1000:1)."""
    buffer = io.BytesIO()
    line = b"https://a.example/,https://site.test/,x\n"
    with (
        zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("links.csv", "w", force_zip64=True) as member,
    ):
        member.write(b"Source url,Target url,Anchor\n")
        block = line * (MB // len(line))
        for _ in range(size // len(block)):
            member.write(block)
    return buffer.getvalue()


def test_it_refuses_a_zip_bomb_by_its_ratio() -> None:
    bomb = _zip_bomb(4 * RATIO_GRACE_BYTES)
    assert len(bomb) < RATIO_GRACE_BYTES // 50  # it really is a bomb
    with pytest.raises(ImportRefused, match="expands more than 200 times"):
        read(bomb, max_bytes=10 * 1024 * MB)


def test_it_refuses_a_zip_member_over_max_bytes() -> None:
    with pytest.raises(ImportRefused, match="once decompressed"):
        read(_zip_bomb(2 * MB), max_bytes=MB)


def test_it_refuses_a_gzip_bomb_while_streaming() -> None:
    out = io.BytesIO()
    line = b"https://a.example/,https://site.test/,x\n"
    with gzip.GzipFile(fileobj=out, mode="wb") as gz:
        gz.write(b"Source url,Target url,Anchor\n")
        block = line * (MB // len(line))
        for _ in range(4 * RATIO_GRACE_BYTES // len(block)):
            gz.write(block)
    reader = open_export(io.BytesIO(out.getvalue()), max_bytes=10 * 1024 * MB)
    with pytest.raises(ImportRefused, match="expands more than 200 times"):
        list(reader)


def test_it_refuses_gzip_past_max_bytes_once_decompressed() -> None:
    data = gzip.compress(TEXT.encode() + b"https://x.example/,https://site.test/,more\n" * 5000)
    reader = open_export(io.BytesIO(data), max_bytes=100_000)
    with pytest.raises(ImportRefused, match="larger than the limit of .* once decompressed"):
        list(reader)


def test_it_reads_an_unseekable_gzip_stream() -> None:
    reader = open_export(io.BufferedReader(Unseekable(gzip.compress(TEXT.encode()))), max_bytes=LIMIT)
    assert list(reader) == ROWS


def test_a_real_file_object_is_read_from_where_it_stands(tmp_path: Path) -> None:
    path = tmp_path / "export.bin"
    path.write_bytes(b"JUNK" + TEXT.encode())
    with path.open("rb") as stream:
        stream.read(4)
        reader = open_export(stream, max_bytes=LIMIT)
        assert reader.total_bytes == len(TEXT.encode())
        assert list(reader) == ROWS


def test_a_reader_is_iterated_once() -> None:
    reader, _rows = read(TEXT.encode())
    with pytest.raises(RuntimeError):
        list(reader)
