"""The Semrush Backlinks fast path (cells straight to COPY text) agrees with the slow path.

The slow path is the importer's converter followed by the loader's formatter. For every row
the fast path must give the same COPY line, or hand the row to the converter (so a bad row
is reported with the same field and message).
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import pytest

from audit import loading
from audit.importers import semrush_backlinks
from audit.importers.base import BacklinkRow, RowError
from tests.audit.loader_helpers import SEMRUSH_HEADER

FULL_HEADER = SEMRUSH_HEADER.split(",") + ["Domain ascore"]


def slow_path(header: list[str], cells: list[str], line: int) -> str:
    """What the regular converter and the loader's formatter make of a row: COPY text or the error."""
    try:
        row = semrush_backlinks.IMPORTER.converter(header)(line, cells)
        return loading._backlink_formatter()(row)
    except RowError as exc:
        return f"row error {exc.field}: {exc.message}"
    except loading.BadValue as exc:
        return f"bad value {exc.field}: {exc.message}"


def fast_path(header: list[str], cells: list[str], line: int) -> tuple[bool, str]:
    """(whether the fast path vouched for the row itself, the row's COPY text or error)."""
    fast = semrush_backlinks.IMPORTER.load_converter(header)
    try:
        out = fast(line, cells)
    except RowError as exc:
        return False, f"row error {exc.field}: {exc.message}"
    if isinstance(out, BacklinkRow):
        try:
            return False, loading._backlink_formatter()(out)
        except loading.BadValue as exc:
            return False, f"bad value {exc.field}: {exc.message}"
    return True, out


def cells_of(**changes: str) -> list[str]:
    base = {
        "Page ascore": "12", "Source title": "A page", "Source url": "https://blog.ref.org/post",
        "Target url": "https://example.com/", "Anchor": "example", "External links": "3",
        "Internal links": "10", "Nofollow": "false", "Sponsored": "false", "Ugc": "false", "Text": "true",
        "Frame": "false", "Form": "false", "Image": "false", "Sitewide": "false", "First seen": "2024-01-01",
        "Last seen": "2025-05-01", "New link": "false", "Lost link": "false", "Domain ascore": "40",
    }  # fmt: skip
    base.update({name.replace("_", " ").capitalize(): value for name, value in changes.items()})
    return [base[name] for name in FULL_HEADER]


ODD_ROWS = {
    "plain": cells_of(),
    "www host and sub-domain": cells_of(source_url="https://www.news.example.co.uk/a?b=1#c"),
    "query right after the host": cells_of(source_url="https://ref.org?x=1"),
    "host only": cells_of(source_url="http://ref.org"),
    "upper-case scheme": cells_of(source_url="HTTPS://Ref.org/x"),
    "upper-case host": cells_of(source_url="https://Blog.REF.org/x"),
    "IP host": cells_of(source_url="http://192.0.2.7/x"),
    "IDN host": cells_of(source_url="https://bücher.de/x"),
    "port and user": cells_of(source_url="https://user@ref.org:8080/x"),
    "hyphens at label edges": cells_of(source_url="https://-a.zh-.example.com/x"),
    "last label ends in a digit": cells_of(source_url="http://example.a1/x"),
    "no public suffix": cells_of(source_url="http://intranet/x"),
    "bare public suffix": cells_of(source_url="https://www.co.uk/x"),
    "label of 64 characters": cells_of(source_url=f"https://{'a' * 64}.com/x"),
    "trailing space": cells_of(source_url="https://ref.org/x "),
    "not a URL": cells_of(source_url="ref.org/x"),
    "empty source": cells_of(source_url=""),
    "empty target": cells_of(target_url=""),
    "target with spaces": cells_of(target_url="  https://example.com/x  "),
    "tab in anchor": cells_of(anchor="a\tb"),
    "newline and CR in title": cells_of(source_title="line\r\nbreak"),
    "backslash": cells_of(anchor="C:\\path"),
    "NUL in anchor": cells_of(anchor="a\x00b"),
    "lost link": cells_of(lost_link="true"),
    "lost link without last seen": cells_of(lost_link="true", last_seen=""),
    "image nofollow sponsored ugc": cells_of(image="true", nofollow="true", sponsored="true", ugc="yes"),
    "no type at all": cells_of(text="false"),
    "empty sitewide": cells_of(sitewide=""),
    "bad flag": cells_of(nofollow="maybe"),
    "decimal score": cells_of(page_ascore="4.7", domain_ascore="0,9"),
    "score over 100": cells_of(page_ascore="101"),
    "empty scores and counts": cells_of(page_ascore="", domain_ascore="", external_links="", internal_links=""),
    "count too large": cells_of(external_links="3000000000"),
    "negative count": cells_of(internal_links="-1"),
    "epoch date": cells_of(first_seen="1700000000"),
    "timestamp date": cells_of(first_seen="2024-02-03 10:11:12"),
    "ambiguous date": cells_of(first_seen="03/04/2024"),
    "date out of range": cells_of(last_seen="1970-01-01"),
}


@pytest.mark.parametrize("name", ODD_ROWS)
def test_the_fast_path_gives_the_slow_paths_text_or_error(name: str) -> None:
    cells = ODD_ROWS[name]
    _, fast = fast_path(FULL_HEADER, cells, 7)
    assert fast == slow_path(FULL_HEADER, cells, 7)


def test_the_fast_path_handles_plain_rows_itself() -> None:
    vouched, text = fast_path(FULL_HEADER, cells_of(lost_link="true"), 3)
    assert vouched
    assert text.startswith(
        "3\thttps://blog.ref.org/post\thttps://example.com/\texample\tA page\tblog.ref.org\tref.org\t"
    )
    key = hashlib.md5(b"https://blog.ref.org/post\nhttps://example.com/").hexdigest()  # noqa: S324 - the link key
    # Lost as of its last seen date; the link's key last.
    assert text.endswith(f"\t2025-05-01\t2025-05-01\t3\t10\t\\N\t12\t40\t\\N\t\\N\t{key}\n")


def test_rows_of_the_wrong_width_go_to_the_converter() -> None:
    for cells in (cells_of()[:-3], [*cells_of(), "", " "], [*cells_of(), "extra"]):
        assert fast_path(FULL_HEADER, cells, 9) == (False, slow_path(FULL_HEADER, cells, 9))


def test_a_header_without_the_optional_columns_agrees() -> None:
    header = ["Page ascore", "Source url", "Target url", "Anchor", "External links", "Internal links",
              "First seen", "Last seen"]  # fmt: skip
    cells = ["5", "https://ref.org/a", "https://example.com/", "hi", "1", "2", "2024-01-01", "2024-02-01"]
    vouched, text = fast_path(header, cells, 2)
    assert vouched
    assert text == slow_path(header, cells, 2)


def test_a_bad_value_seen_before_is_still_refused() -> None:
    fast = semrush_backlinks.IMPORTER.load_converter(FULL_HEADER)
    for line in (2, 3):  # a bad value is never remembered as good
        with pytest.raises(RowError, match="score from 0 to 100"):
            fast(line, cells_of(page_ascore="250"))


def test_the_real_sample_gives_the_same_copy_text_both_ways(samples_dir: Path) -> None:
    path = samples_dir / "semrush" / "acceleratinght.org-backlinks.csv"
    header, *rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
    fast = semrush_backlinks.IMPORTER.load_converter(header)
    slow_convert, slow_format = semrush_backlinks.IMPORTER.converter(header), loading._backlink_formatter()
    texts = [fast(line, cells) for line, cells in enumerate(rows, 2)]
    assert all(isinstance(text, str) for text in texts)  # real rows take the fast path
    assert texts == [slow_format(slow_convert(line, cells)) for line, cells in enumerate(rows, 2)]
