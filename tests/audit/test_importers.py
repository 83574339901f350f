"""Format detection and row conversion, on the real samples and on synthetic fixtures.

Expected values are computed here from the raw files with the csv module, independently of
the importers, so a count is never a number copied from the code's own output.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import zipfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import pytest

from audit.choices import ImportFormat, ImportKind, Provider
from audit.importers.base import BacklinkRow, ImportRefused, LineError, RefDomainRow, RowError, site_root_url
from audit.importers.detect import IMPORTERS, detect_format, importer_for, iter_normalised
from audit.importers.reader import open_export
from audit.importers.values import Memo, parse_authority, parse_date, parse_flag, parse_url

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "imports"
LIMIT = 1024**3
SITE = "https://site.test/"

Item = BacklinkRow | RefDomainRow | LineError


def convert(
    data: bytes,
    *,
    mapping: dict[str, str] | None = None,
    default_target: str | None = SITE,
    format: ImportFormat | None = None,
) -> tuple[ImportFormat, list[Item]]:
    """Detects (or takes) the format and converts every row, as the loader does."""
    reader = open_export(io.BytesIO(data), max_bytes=LIMIT)
    chosen = format or detect_format(reader.normalized_header).format
    converter = importer_for(chosen).converter(reader.header, mapping, default_target_url=default_target)
    return chosen, list(iter_normalised(reader, converter))


def raw_rows(
    path: Path, *, encoding: str = "utf-8", delimiter: str = ","
) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding=encoding, newline="") as stream:
        rows = list(csv.reader(stream, delimiter=delimiter))
    return rows[0], rows[1:]


def only_rows(items: Iterable[Item]) -> list[BacklinkRow | RefDomainRow]:
    items = list(items)
    errors = [item for item in items if isinstance(item, LineError)]
    assert errors == []
    return items  # type: ignore[return-value]


def as_semicolons(data: bytes) -> bytes:
    rows = list(csv.reader(io.StringIO(data.decode(), newline="")))
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode()


# -- Semrush Backlinks --------------------------------------------------------------------------
@pytest.fixture
def semrush_backlinks(samples_dir: Path) -> Path:
    return samples_dir / "semrush" / "acceleratinght.org-backlinks.csv"


def test_semrush_backlinks_sample_is_parsed_exactly(semrush_backlinks: Path) -> None:
    header, raw = raw_rows(semrush_backlinks)
    column = {name: header.index(name) for name in header}
    chosen, items = convert(semrush_backlinks.read_bytes())
    rows = only_rows(items)

    assert chosen == ImportFormat.SEMRUSH_BACKLINKS
    assert len(rows) == len(raw) == 226
    assert [row.line for row in rows] == list(range(2, len(raw) + 2))  # no multi-line cells here
    for row, cells in zip(rows, raw, strict=True):
        assert row.source_url == cells[column["Source url"]]
        assert row.target_url == cells[column["Target url"]]
        assert row.anchor == cells[column["Anchor"]]
        assert row.source_title == cells[column["Source title"]]
        assert row.page_authority == int(cells[column["Page ascore"]])
        assert row.external_links == int(cells[column["External links"]])
        assert row.internal_links == int(cells[column["Internal links"]])
        assert row.first_seen == cells[column["First seen"]]
        assert row.last_seen == cells[column["Last seen"]]
    lost = [cells for cells in raw if cells[column["Lost link"]] == "true"]
    assert sum(row.lost_at is not None for row in rows) == len(lost) == 16
    assert {row.lost_at for row in rows if row.lost_at} == {cells[column["Last seen"]] for cells in lost}
    assert sum(row.nofollow for row in rows) == sum(c[column["Nofollow"]] == "true" for c in raw) == 25
    assert {row.link_type for row in rows} == {"text"}  # Text is true on every row of this sample


def test_semrush_backlinks_first_last_and_tricky_rows(semrush_backlinks: Path) -> None:
    _chosen, items = convert(semrush_backlinks.read_bytes())
    rows = only_rows(items)
    first, last = rows[0], rows[-1]
    assert (
        first.source_title
        == "SARS-CoV-2 Vaccine Development & Implementation; Scenarios, Options, Key Decisions"
    )
    assert (first.page_authority, first.nofollow, first.sitewide, first.lost_at) == (51, False, False, None)
    assert last.line == 227
    assert last.source_url == "https://zoacum.com/website-list-703/"
    # Line 3: the anchor is written """AcceleratingHT""" (quotes inside a quoted cell).
    assert rows[1].anchor == '"AcceleratingHT"'
    assert rows[1].nofollow is True
    # Line 74: a comma inside a quoted title.
    by_line = {row.line: row for row in rows}
    assert by_line[74].source_title == "Michael Kremer - WikiMili, The Best Wikipedia Reader"


def test_semrush_backlinks_semicolon_bom_gzip_and_zip_variants_give_the_same_rows(
    semrush_backlinks: Path,
) -> None:
    data = semrush_backlinks.read_bytes()
    _chosen, plain = convert(data)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("acceleratinght.org-backlinks.csv", data)
    for variant in (as_semicolons(data), codecs.BOM_UTF8 + data, gzip.compress(data), buffer.getvalue()):
        chosen, rows = convert(variant)
        assert chosen == ImportFormat.SEMRUSH_BACKLINKS
        assert rows == plain


def test_semrush_backlinks_header_spelling_does_not_matter(semrush_backlinks: Path) -> None:
    lines = semrush_backlinks.read_bytes().decode().split("\n")
    lines[0] = ",".join(f" {cell.upper()}  " for cell in lines[0].split(","))
    chosen, items = convert("\n".join(lines).encode())
    assert chosen == ImportFormat.SEMRUSH_BACKLINKS
    assert len(only_rows(items)) == 226


# -- Semrush Referring Domains ------------------------------------------------------------------
def test_semrush_refdomains_sample_is_parsed_exactly(samples_dir: Path) -> None:
    path = samples_dir / "semrush" / "www.caldea.com-backlinks_refdomains.csv"
    header, raw = raw_rows(path)
    chosen, items = convert(path.read_bytes())
    rows = only_rows(items)
    assert chosen == ImportFormat.SEMRUSH_REFDOMAINS
    assert importer_for(chosen).spec.kind == ImportKind.REFDOMAINS
    assert len(rows) == len(raw) == 1827
    for row, (score, domain, backlinks, ip, country, first, last) in zip(rows, raw, strict=True):
        punycode = (
            domain.lower().encode("idna").decode()
        )  # IDNs are stored as punycode: tmés.com → xn--tms-cma.com
        assert (row.domain, row.authority, row.reported_backlinks) == (punycode, int(score), int(backlinks))
        assert (row.ip, row.country, row.first_seen, row.last_seen) == (ip, country, first, last)
    assert rows[0] == RefDomainRow(
        2, "memekrapet.com", 4, 886, "172.67.194.178", "", "2025-01-03", "2026-02-06"
    )
    assert sum(row.country == "" for row in rows) == sum(cells[4] == "" for cells in raw)


# -- Semrush Backlink Audit ---------------------------------------------------------------------
def test_semrush_audit_sample_is_parsed_exactly(samples_dir: Path) -> None:
    path = samples_dir / "semrush" / "backlink_audit_domains_27811604_2026-02-06.csv"
    header, raw = raw_rows(path)
    column = {name: header.index(name) for name in header}
    chosen, items = convert(path.read_bytes())
    rows = only_rows(items)
    assert chosen == ImportFormat.SEMRUSH_AUDIT
    assert importer_for(chosen).spec.full_snapshot is False
    assert len(rows) == len(raw) == 13250
    html = Counter(cells[column["Link Type"]] for cells in raw)
    assert Counter(row.link_type for row in rows) == {
        "text": html["a"],
        "image": html["img"],
        "frame": html["iframe"],
    }
    assert sum(row.nofollow for row in rows) == sum(c[column["No Follow"]] == "true" for c in raw) == 738
    for row, cells in zip(rows, raw, strict=True):
        assert row.toxic_score == int(cells[column["Toxic Score"]])
        assert row.domain_authority == int(cells[column["Domain Authority Score"]])
        assert row.page_authority == int(cells[column["Page Authority Score"]])
        assert (row.source_url, row.target_url) == (cells[column["Source URL"]], cells[column["Target URL"]])
    assert rows[0].source_title == "Backlinks for caldea.com" and rows[0].toxic_score == 100
    assert rows[-1].line == 13251 and rows[-1].domain_authority == 98


# -- Ahrefs Backlinks ---------------------------------------------------------------------------
def test_ahrefs_backlinks_sample_is_parsed_exactly(samples_dir: Path) -> None:
    path = samples_dir / "ahrefs" / "www.caldea.com-backlinks-subdomains.csv"
    header, raw = raw_rows(path, encoding="utf-16", delimiter="\t")
    column = {name: header.index(name) for name in header}
    chosen, items = convert(path.read_bytes())
    rows = only_rows(items)
    assert chosen == ImportFormat.AHREFS_BACKLINKS
    assert len(rows) == len(raw) == 1508

    def count(name: str, value: str = "true") -> int:
        return sum(cells[column[name]] == value for cells in raw)

    assert Counter(row.link_type for row in rows) == {
        kind: count("Type", kind) for kind in ("text", "image", "redirect")
    }
    assert sum(row.is_spam for row in rows) == count("Is spam") == 391
    assert sum(row.nofollow for row in rows) == count("Nofollow") == 457
    assert sum(row.ugc for row in rows) == count("UGC") == 5
    assert sum(row.lost_at is not None for row in rows) == len(raw) - count("Lost", "")
    for row, cells in zip(rows, raw, strict=True):
        assert row.source_url == cells[column["Referring page URL"]]
        assert row.first_seen == cells[column["First seen"]][:10]
        assert row.lost_at == (cells[column["Lost"]][:10] or None)
        assert row.domain_authority == int(float(cells[column["Domain rating"]]) + 0.5)
        assert row.page_authority == int(float(cells[column["UR"]]) + 0.5)
        assert row.http_status == (int(cells[column["Referring page HTTP code"]]) or None)  # 0: not crawled
    assert rows[0].source_title == "Andorra: Not Lost in the Pyrenees by Rick Steves"
    assert (rows[0].anchor, rows[0].domain_authority, rows[0].last_seen) == ("Caldea", 76, "2026-02-06")
    assert rows[-1].line == 1509 and rows[-1].lost_at == "2026-02-05"


# -- Search Console ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "expected"),
    [("latest-links", ImportFormat.GSC_LATEST_LINKS), ("more-sample-links", ImportFormat.GSC_SAMPLE_LINKS)],
)
def test_search_console_link_exports_get_the_site_root_as_target(
    samples_dir: Path, name: str, expected: ImportFormat
) -> None:
    path = samples_dir / "gsc" / f"www.sparkshark.com-{name}-2026-05-10.csv"
    header, raw = raw_rows(path)
    chosen, items = convert(path.read_bytes(), default_target=site_root_url("sparkshark.com"))
    rows = only_rows(items)
    assert chosen == expected
    assert importer_for(chosen).spec.full_snapshot is False
    assert [row.source_url for row in rows] == [cells[0] for cells in raw]
    assert {row.target_url for row in rows} == {"https://sparkshark.com/"}
    expected_dates = [cells[1] for cells in raw] if len(header) > 1 else [None] * len(raw)
    assert [row.last_seen for row in rows] == expected_dates


def test_search_console_links_without_a_default_target_leave_it_empty_for_the_loader(
    samples_dir: Path,
) -> None:
    path = samples_dir / "gsc" / "www.sparkshark.com-latest-links-2026-05-10.csv"
    _chosen, items = convert(path.read_bytes(), default_target=None)
    assert {row.target_url for row in only_rows(items)} == {""}


def test_search_console_top_linking_sites_are_referring_domains(samples_dir: Path) -> None:
    path = samples_dir / "gsc" / "www.sparkshark.com-top-linking-sites-2026-05-10.csv"
    _header, raw = raw_rows(path)
    chosen, items = convert(path.read_bytes())
    rows = only_rows(items)
    assert chosen == ImportFormat.GSC_TOP_SITES
    assert [(row.domain, row.reported_backlinks) for row in rows] == [
        (site, int(pages)) for site, pages, _ in raw
    ]


@pytest.mark.parametrize(
    ("folder", "name", "message"),
    [
        (
            "ahrefs",
            "www.caldea.com-refips-subdomains.csv",
            "this is an Ahrefs Referring IPs export; export Backlinks",
        ),
        ("gsc", "www.sparkshark.com-top-linking-text-2026-05-10.csv", "Top linking text"),
        ("gsc", "www.sparkshark.com-top-target-pages-2026-05-10.csv", "Top target pages"),
    ],
)
def test_recognised_exports_without_links_are_refused_with_advice(
    samples_dir: Path, folder: str, name: str, message: str
) -> None:
    reader = open_export(io.BytesIO((samples_dir / folder / name).read_bytes()), max_bytes=LIMIT)
    with pytest.raises(ImportRefused, match=message) as refused:
        detect_format(reader.normalized_header)
    assert refused.value.line == 1


# -- formats without a real sample ---------------------------------------------------------------
def test_ahrefs_refdomains_fixture_utf16_with_trailing_space_headers() -> None:
    data = (FIXTURES / "ahrefs-refdomains.csv").read_bytes()
    reader = open_export(io.BytesIO(data), max_bytes=LIMIT)
    assert "traffic" in reader.normalized_header and "Traffic " in reader.header
    chosen, items = convert(data)
    assert chosen == ImportFormat.AHREFS_REFDOMAINS
    assert only_rows(items) == [
        RefDomainRow(2, "example-news.com", 72, 12, None, "", "2019-03-04", None, None),
        RefDomainRow(3, "tiny-blog.net", 0, 1, None, "", "2023-07-01", None, "2025-02-03"),
        RefDomainRow(4, "xn--bcher-kva.de", 45, 3, None, "", "2024-11-30", None, None),
        RefDomainRow(5, "spam-farm.xyz", 4, 250, None, "", "2025-01-15", None, None),
    ]


@pytest.mark.parametrize("name", ["majestic-backlinks.csv", "majestic-backlinks-api.csv"])
def test_majestic_both_header_spellings(name: str) -> None:
    chosen, items = convert((FIXTURES / name).read_bytes())
    rows = only_rows(items)
    assert chosen == ImportFormat.MAJESTIC_BACKLINKS
    assert importer_for(chosen).spec.provider == Provider.MAJESTIC
    first, second = rows[0], rows[1]
    assert (first.source_url, first.target_url, first.anchor) == (
        "https://news.example.org/story/1",
        SITE.replace("site", "www.site"),
        "Site Test",
    )
    assert (first.page_authority, first.domain_authority) == (35, 28)  # citation flow, trust flow
    assert (first.first_seen, first.last_seen, first.nofollow, first.link_type) == (
        "2021-05-06",
        "2025-01-02",
        False,
        "text",
    )
    assert second.nofollow is True


def test_majestic_link_types_and_lost_links() -> None:
    _chosen, items = convert((FIXTURES / "majestic-backlinks.csv").read_bytes())
    rows = only_rows(items)
    assert rows[1].anchor == "click here, now"
    assert (rows[2].link_type, rows[2].lost_at) == ("image", "2023-06-30")  # deleted: lost when last seen
    assert (rows[3].link_type, rows[3].lost_at) == ("redirect", "2022-11-01")  # Date Lost wins


# -- Generic CSV ---------------------------------------------------------------------------------
GENERIC_MAPPING = {
    "source_url": "Linking Page",
    "target_url": "links to",
    "anchor": "Link Text",
    "nofollow": "Follow?",
    "first_seen": "Found",
    "last_seen": "Checked",
    "domain_authority": "Authority",
    "source_title": "",
}


def test_generic_csv_maps_columns_and_reads_lenient_values() -> None:
    chosen, items = convert(
        (FIXTURES / "generic-links.csv").read_bytes(),
        mapping=GENERIC_MAPPING,
        format=ImportFormat.GENERIC_CSV,
    )
    first, second, third, fourth = items
    assert first == BacklinkRow(
        2,
        "https://a.example.com/p1",
        SITE.replace("site", "www.site"),
        "Site",
        nofollow=True,
        first_seen="2024-01-02",
        last_seen="2025-03-04",
        domain_authority=41,
    )
    # Empty target → the site's home page; epoch seconds; 7.5 rounds half up.
    assert (second.target_url, second.nofollow, second.first_seen, second.last_seen) == (
        SITE,
        False,
        "2023-11-14",
        "2025-01-01",
    )
    assert second.domain_authority == 8
    assert (third.nofollow, third.first_seen, third.last_seen, third.domain_authority) == (
        True,
        "2024-02-29",
        None,
        None,
    )
    assert fourth == LineError(
        5, "first_seen", "ambiguous date '03/04/2024': use YYYY-MM-DD (day/month order is unknown)"
    )


def test_generic_mapping_decides_the_kind() -> None:
    importer = importer_for(ImportFormat.GENERIC_CSV)
    assert importer.kind_for({"source_url": "Page"}) == ImportKind.BACKLINKS
    assert importer.kind_for({"domain": "Host", "authority": "DA"}) == ImportKind.REFDOMAINS
    data = b"Host,DA,Where,IP\nWWW.Example.ORG,12,US,2001:db8::1\n"
    _chosen, items = convert(
        data,
        mapping={"domain": "host", "authority": "DA", "country": "Where", "ip": "IP"},
        format=ImportFormat.GENERIC_CSV,
    )
    assert items == [RefDomainRow(2, "example.org", 12, None, "2001:db8::1", "us")]


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({}, "map a column to source_url"),
        ({"anchor": "Link Text"}, "map a column to source_url"),
        ({"source_url": "Nope"}, "the column 'Nope' mapped to source_url is not in the header"),
        (
            {"source_url": "Linking Page", "country": "Found"},
            "'country' is not a field of a backlinks import",
        ),
    ],
)
def test_generic_mapping_that_does_not_fit_is_refused(mapping: dict[str, str], message: str) -> None:
    with pytest.raises(ImportRefused, match=message):
        convert(
            (FIXTURES / "generic-links.csv").read_bytes(), mapping=mapping, format=ImportFormat.GENERIC_CSV
        )


# -- detection and row errors ------------------------------------------------------------------
def test_an_unknown_header_is_refused_listing_it_and_the_known_formats() -> None:
    reader = open_export(io.BytesIO(b"Page,Where it links,Words\nhttps://a.example/,x,y\n"), max_bytes=LIMIT)
    with pytest.raises(ImportRefused) as refused:
        detect_format(reader.normalized_header)
    message = refused.value.message
    assert "'page', 'where it links', 'words'" in message
    for importer in IMPORTERS.values():
        if importer.spec.required_headers:
            assert importer.spec.format.label in message
    assert "Generic CSV" in message
    assert refused.value.line == 1


def test_the_most_specific_format_wins() -> None:
    assert detect_format(["linking page"]).format == ImportFormat.GSC_SAMPLE_LINKS
    assert detect_format(["Linking page", "Last crawled"]).format == ImportFormat.GSC_LATEST_LINKS


def test_detection_never_looks_at_anything_but_the_header() -> None:
    assert detect_format(["Site", "Linking pages", "Target pages"]).format == ImportFormat.GSC_TOP_SITES
    assert detect_format(["site", "linking pages"]).format == ImportFormat.GSC_TOP_SITES


SEMRUSH_HEADER = (
    "Page ascore,Source title,Source url,Target url,Anchor,External links,Internal links,Nofollow,Sponsored,"
    "Ugc,Text,Frame,Form,Image,Sitewide,First seen,Last seen,New link,Lost link"
)
GOOD = "5,Title,https://a.example/p,https://site.test/,anchor,3,4,false,false,false,true,false,false,false,false,2024-01-01,2025-01-01,false,false"


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        (GOOD.replace("https://a.example/p", "ftp://a.example/p"), "source_url", "not an http(s) URL"),
        (GOOD.replace("https://a.example/p", "https://exa mple..com/p"), "source_url", "invalid host"),
        (GOOD.replace("https://a.example/p", ""), "source_url", "is empty"),
        (GOOD.replace("https://site.test/", "site.test"), "target_url", "not an http(s) URL"),
        (GOOD.replace("2024-01-01", "01/02/2024"), "first_seen", "ambiguous date"),
        (GOOD.replace("2025-01-01", "yesterday"), "last_seen", "unrecognised date 'yesterday'"),
        ("high" + GOOD[1:], "page_ascore", "expected a score from 0 to 100, got 'high'"),
        ("101" + GOOD[1:], "page_ascore", "expected a score from 0 to 100"),
        (GOOD.replace(",3,4,", ",three,4,"), "external_links", "expected a whole number, got 'three'"),
        (
            GOOD.replace("false,false,false,true", "maybe,false,false,true"),
            "nofollow",
            "expected true or false",
        ),
        (GOOD + ",extra", "row", "expected 19 cells but found 20"),
        (GOOD.rsplit(",", 1)[0], "row", "expected 19 cells but found 18"),
    ],
)
def test_an_unusable_row_is_reported_with_line_and_field_and_the_others_kept(
    row: str, field: str, message: str
) -> None:
    data = "\n".join([SEMRUSH_HEADER, GOOD, row, GOOD.replace("/p,", "/q,")]).encode()
    _chosen, items = convert(data)
    assert isinstance(items[0], BacklinkRow) and isinstance(items[2], BacklinkRow)
    assert items[2].line == 4 and items[2].source_url == "https://a.example/q"
    error = items[1]
    assert isinstance(error, LineError)
    assert (error.line, error.field) == (3, field)
    assert message in error.message


def test_trailing_empty_cells_left_by_spreadsheets_are_tolerated() -> None:
    _chosen, items = convert("\n".join([SEMRUSH_HEADER, GOOD + ",,"]).encode())
    assert isinstance(items[0], BacklinkRow)


def test_a_memo_hit_gives_the_same_row_as_a_miss() -> None:
    converter = importer_for(ImportFormat.SEMRUSH_BACKLINKS).converter(SEMRUSH_HEADER.split(","))
    cells = GOOD.split(",")
    first, second = converter(2, list(cells)), converter(3, list(cells))
    assert first._replace(line=3) == second
    assert first == BacklinkRow(
        2,
        "https://a.example/p",
        "https://site.test/",
        "anchor",
        "Title",
        "text",
        False,
        False,
        False,
        False,
        "2024-01-01",
        "2025-01-01",
        None,
        3,
        4,
        None,
        5,
        None,
        None,
        None,
    )


def test_row_values_are_plain_python_values() -> None:
    converter = importer_for(ImportFormat.SEMRUSH_BACKLINKS).converter(SEMRUSH_HEADER.split(","))
    row = converter(2, GOOD.split(","))
    assert {type(value) for value in row} <= {int, str, bool, type(None)}


# -- value parsers -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-02-29", "2024-02-29"),
        (" 2024-02-29 ", "2024-02-29"),
        ("2021-09-11 11:40:43", "2021-09-11"),
        ("2021-09-11T11:40:43Z", "2021-09-11"),
        ("1700000000", "2023-11-14"),
        ("1700000000000", "2023-11-14"),
        ("", None),
    ],
)
def test_dates_accepted(text: str, expected: str | None) -> None:
    assert parse_date(text, "first_seen") == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("03/04/2024", "ambiguous date"),
        ("3.4.2024", "ambiguous date"),
        ("2024-02-30", "unrecognised date"),
        ("2024-01-01 noon", "unrecognised date"),
        ("12345", "Unix seconds"),
        ("1970-01-01", "out of range"),
    ],
)
def test_dates_refused(text: str, message: str) -> None:
    with pytest.raises(RowError, match=message) as refused:
        parse_date(text, "last_seen")
    assert refused.value.field == "last_seen"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("TRUE", True),
        ("yes", True),
        ("1", True),
        ("Y", True),
        ("x", True),
        ("No", False),
        ("0", False),
        ("", False),
    ],
)
def test_flags(text: str, expected: bool) -> None:
    assert parse_flag(text, "nofollow") is expected


@pytest.mark.parametrize(("text", "expected"), [("0.4", 0), ("0.5", 1), ("4,7", 5), ("100", 100), ("", None)])
def test_authority_scores_round_half_up(text: str, expected: int | None) -> None:
    assert parse_authority(text, "page_authority") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("HTTPS://Example.com/A", "https://Example.com/A"),
        ("  http://a.example/ ", "http://a.example/"),
        ("https://user@a.example:8443/x", "https://user@a.example:8443/x"),
    ],
)
def test_urls_are_checked_and_tidied(text: str, expected: str) -> None:
    assert parse_url(text, "source_url") == expected


def test_a_memo_is_capped() -> None:
    memo = Memo(parse_flag, "nofollow", limit=2)
    assert [memo[text] for text in ("true", "false", "yes", "no")] == [True, False, True, False]
    assert len(memo) <= 2
