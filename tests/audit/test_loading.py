"""The loader: COPY into staging, set-based merge, New & Lost, referring-domain aggregates."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

import pytest

from audit.choices import PROVIDER_BIT, ImportKind, Provider
from audit.importers.base import ImportRefused, LineError, RefDomainRow
from audit.loading import LoadLimits
from audit.models import Backlink, RefDomain, Site
from tests.audit.loader_helpers import link, load, snapshot

pytestmark = pytest.mark.django_db

SEMRUSH = PROVIDER_BIT[Provider.SEMRUSH]
AHREFS = PROVIDER_BIT[Provider.AHREFS]


@pytest.fixture
def site() -> Site:
    return Site.objects.create(domain="example.com")


def by_url(site: Site) -> dict[str, Backlink]:
    return {b.source_url: b for b in Backlink.objects.filter(site=site)}


def test_it_stores_links_with_hosts_domains_keys_and_provider_authority(site):
    row = link(
        1, source_url="https://WWW.Blog.Example-Ref.co.uk/a?b=1", page_authority=37, domain_authority=52
    )
    result = load(site, [row])
    stored = Backlink.objects.get(site=site)
    assert (stored.source_host, stored.source_domain) == ("blog.example-ref.co.uk", "example-ref.co.uk")
    expected_key = hashlib.md5(f"{row.source_url}\n{row.target_url}".encode()).hexdigest()  # noqa: S324
    assert stored.url_key == uuid.UUID(expected_key)
    assert (stored.semrush_page_ascore, stored.semrush_domain_ascore) == (37, 52)
    assert (stored.ahrefs_ur, stored.ahrefs_dr) == (None, None)
    assert stored.providers == SEMRUSH
    assert (stored.first_seen, stored.last_seen, stored.lost_at) == (
        dt.date(2024, 1, 1),
        dt.date(2025, 5, 1),
        None,
    )
    assert (result.rows_read, result.rows_imported, result.rows_new, result.rows_lost) == (1, 1, 1, 0)


def test_ahrefs_authority_goes_to_ahrefs_columns_and_both_bits_are_kept(site):
    load(site, [link(1, page_authority=20, domain_authority=30)])
    load(site, [link(1, page_authority=5, domain_authority=70)], provider=Provider.AHREFS)
    stored = Backlink.objects.get(site=site)
    assert (stored.semrush_page_ascore, stored.semrush_domain_ascore) == (20, 30)
    assert (stored.ahrefs_ur, stored.ahrefs_dr) == (5, 70)
    assert stored.providers == SEMRUSH | AHREFS


def test_text_with_tabs_newlines_and_backslashes_survives_exactly(site):
    anchor = "a\tb\nc\\d\re \\N"
    title = "Title with \\t literally"
    load(site, [link(1, anchor=anchor, source_title=title)])
    stored = Backlink.objects.get(site=site)
    assert (stored.anchor, stored.source_title) == (anchor, title)


def test_reimporting_the_same_rows_writes_nothing(site):
    rows = [link(n) for n in range(30)] + [link(30, lost_at="2025-04-01", nofollow=True)]
    load(site, rows)
    before = snapshot(with_xmin=True)
    result = load(site, rows, on=dt.date(2025, 7, 1))
    assert snapshot(with_xmin=True) == before  # same contents, same row versions: no write at all
    assert (result.rows_read, result.rows_imported, result.rows_new, result.rows_lost) == (31, 31, 0, 0)


def test_a_newer_snapshot_marks_missing_links_lost_and_counts_new_ones(site):
    load(site, [link(1), link(2), link(3)], on=dt.date(2025, 6, 1))
    result = load(site, [link(2), link(3), link(4)], on=dt.date(2025, 7, 1))
    links = by_url(site)
    assert (result.rows_new, result.rows_lost) == (1, 1)
    assert links[link(1).source_url].lost_at == dt.date(2025, 7, 1)
    assert links[link(1).source_url].providers == 0
    assert [links[link(n).source_url].lost_at for n in (2, 3, 4)] == [None, None, None]


def test_a_link_found_again_is_live_and_counts_as_new(site):
    load(site, [link(1), link(2)], on=dt.date(2025, 6, 1))
    load(site, [link(2)], on=dt.date(2025, 7, 1))
    result = load(site, [link(1), link(2)], on=dt.date(2025, 8, 1))
    found_again = by_url(site)[link(1).source_url]
    assert (found_again.lost_at, found_again.providers) == (None, SEMRUSH)
    assert (result.rows_new, result.rows_lost) == (1, 0)


def test_an_already_lost_link_keeps_its_first_lost_date(site):
    load(site, [link(1), link(2)], on=dt.date(2025, 6, 1))
    load(site, [link(2)], on=dt.date(2025, 7, 1))
    result = load(site, [link(2)], on=dt.date(2025, 8, 1))
    assert by_url(site)[link(1).source_url].lost_at == dt.date(2025, 7, 1)
    assert result.rows_lost == 0


def test_a_link_another_provider_still_reports_stays_live(site):
    load(site, [link(1), link(2)])
    load(site, [link(1)], provider=Provider.AHREFS)
    result = load(site, [link(2)], on=dt.date(2025, 7, 1))
    kept = by_url(site)[link(1).source_url]
    assert (kept.providers, kept.lost_at) == (AHREFS, None)
    assert result.rows_lost == 0


def test_a_partial_export_marks_nothing_lost(site):
    load(site, [link(1), link(2)])
    result = load(site, [link(3)], full_snapshot=False, on=dt.date(2025, 7, 1))
    assert result.rows_lost == 0
    assert Backlink.objects.filter(site=site, lost_at__isnull=True).count() == 3


def test_url_only_exports_do_not_overwrite_what_a_richer_provider_said(site):
    load(site, [link(1, anchor="Example shop", nofollow=True)])
    bare = link(1, anchor="", nofollow=False, page_authority=None, first_seen=None, last_seen="2025-06-02")
    load(site, [bare], provider=Provider.GSC, full_snapshot=False)
    stored = Backlink.objects.get(site=site)
    assert (stored.anchor, stored.nofollow, stored.last_seen) == ("Example shop", True, dt.date(2025, 6, 2))
    assert stored.providers == SEMRUSH | PROVIDER_BIT[Provider.GSC]


def test_the_first_line_of_a_duplicated_link_wins(site):
    result = load(site, [link(1, anchor="first", line=2), link(1, anchor="second", line=3)])
    assert Backlink.objects.get(site=site).anchor == "first"
    assert (result.rows_imported, result.rows_new) == (2, 1)


def test_malformed_rows_are_skipped_and_reported_by_line(site):
    rows = [
        link(1),
        LineError(3, "first_seen", "not a date: 'yesterday'"),
        link(2, source_url="https:///no-host", line=4),
        link(3, http_status=70000, line=5),
        link(4),
    ]
    result = load(site, rows)
    assert Backlink.objects.filter(site=site).count() == 2
    assert (result.rows_read, result.rows_imported, result.rows_skipped) == (5, 2, 3)
    assert [(e["line"], e["field"]) for e in result.row_errors] == [
        (3, "first_seen"), (4, "source_url"), (5, "http_status"),
    ]  # fmt: skip
    assert "out of range" in result.row_errors[2]["message"]


def test_too_many_malformed_rows_refuse_the_whole_import(site):
    load(site, [link(1)])
    before = snapshot()
    rows = [link(n) for n in range(10)] + [LineError(100 + n, "row", "expected 19 cells") for n in range(3)]
    with pytest.raises(ImportRefused, match="more than 2 malformed rows"):
        load(site, rows, limits=LoadLimits(max_bad_rows=2, max_bad_ratio=1.0))
    assert snapshot() == before


def test_a_high_share_of_malformed_rows_refuses_the_import(site):
    rows = [link(n) for n in range(80)] + [LineError(200 + n, "row", "bad") for n in range(20)]
    with pytest.raises(ImportRefused, match="20 of 100 rows are malformed"):
        load(site, rows, limits=LoadLimits(max_bad_rows=1000, max_bad_ratio=0.1))
    assert not Backlink.objects.exists()


def test_a_file_with_no_usable_row_is_refused_so_it_cannot_mark_everything_lost(site):
    load(site, [link(1)])
    with pytest.raises(ImportRefused, match="no usable row"):
        load(site, [LineError(2, "row", "bad")], on=dt.date(2025, 7, 1))
    assert Backlink.objects.get(site=site).lost_at is None


def test_refdomains_are_aggregated_from_the_links(site):
    rows = [
        link(0, source_url="https://a.ref.co.uk/1", first_seen="2024-03-01"),
        link(
            1,
            source_url="https://b.ref.co.uk/2",
            nofollow=True,
            first_seen="2024-01-01",
            last_seen="2025-06-01",
        ),
        link(2, source_url="https://gone.net/1", lost_at="2025-02-01"),
    ]
    load(site, rows, full_snapshot=False)
    ref = {r.domain: r for r in RefDomain.objects.filter(site=site)}
    assert set(ref) == {"ref.co.uk", "gone.net"}
    assert (ref["ref.co.uk"].backlinks, ref["ref.co.uk"].follow_backlinks, ref["ref.co.uk"].tld) == (
        2,
        1,
        "co.uk",
    )
    assert (ref["ref.co.uk"].first_seen, ref["ref.co.uk"].last_seen) == (
        dt.date(2024, 1, 1),
        dt.date(2025, 6, 1),
    )
    assert (ref["ref.co.uk"].lost_at, ref["gone.net"].lost_at) == (None, dt.date(2025, 2, 1))
    assert ref["gone.net"].backlinks == 0


def test_a_refdomain_is_lost_when_its_last_link_is_lost(site):
    load(site, [link(1), link(2)], on=dt.date(2025, 6, 1))  # ref1.org and ref2.org
    load(site, [link(2)], on=dt.date(2025, 7, 1))
    ref1 = RefDomain.objects.get(site=site, domain="ref1.org")
    assert (ref1.backlinks, ref1.lost_at) == (0, dt.date(2025, 7, 1))
    assert RefDomain.objects.get(site=site, domain="ref2.org").lost_at is None


def test_the_tld_is_computed_for_new_domains_only(site):
    load(site, [link(1)])
    RefDomain.objects.filter(site=site, domain="ref1.org").update(tld="marker")
    load(site, [link(1), link(2)])
    assert dict(RefDomain.objects.filter(site=site).values_list("domain", "tld")) == {
        "ref1.org": "marker", "ref2.org": "org",
    }  # fmt: skip


def test_a_refdomains_export_merges_authority_ip_country_and_dates(site):
    load(site, [link(1)])
    rows = [
        RefDomainRow(2, "ref1.org", 44, 120, "192.0.2.7", "de", "2023-01-01", "2025-05-30"),
        RefDomainRow(3, "WWW.New-Domain.com.br", 12, 3, None, "", "2024-02-02", "2025-01-01"),
    ]
    result = load(site, rows, kind=ImportKind.REFDOMAINS)
    ref = {r.domain: r for r in RefDomain.objects.filter(site=site)}
    assert (ref["ref1.org"].semrush_ascore, ref["ref1.org"].reported_backlinks) == (44, 120)
    assert (ref["ref1.org"].ip, ref["ref1.org"].country) == ("192.0.2.7", "de")
    assert ref["ref1.org"].first_seen == dt.date(2023, 1, 1)  # the earlier date wins
    assert ref["ref1.org"].backlinks == 1  # still counted from the links
    assert (ref["new-domain.com.br"].tld, ref["new-domain.com.br"].backlinks) == ("com.br", 0)
    assert result.rows_new == 1
    before = snapshot(with_xmin=True)
    load(site, rows, kind=ImportKind.REFDOMAINS)
    assert snapshot(with_xmin=True) == before


def test_a_refdomains_export_cannot_make_a_domain_with_live_links_lost(site):
    load(site, [link(1), link(2)])  # ref1.org and ref2.org, one live link each
    lost_row = RefDomainRow(2, "ref1.org", 44, 0, None, "", "2023-01-01", "2025-05-30", "2025-05-30")
    load(site, [lost_row], kind=ImportKind.REFDOMAINS)
    ref1 = RefDomain.objects.get(site=site, domain="ref1.org")
    assert (ref1.backlinks, ref1.lost_at, ref1.semrush_ascore) == (1, None, 44)  # recounted from its links


def test_a_later_import_recounts_the_domains_whose_links_changed(site):
    load(site, [link(1), link(2)], on=dt.date(2025, 6, 1))
    refs = {r.domain: r.xmin for r in RefDomain.objects.extra(select={"xmin": "xmin::text"})}
    load(site, [link(1), link(2, nofollow=True)], on=dt.date(2025, 7, 1))
    after = {r.domain: (r.xmin, r.follow_backlinks) for r in RefDomain.objects.extra(select={"xmin": "xmin::text"})}
    assert after["ref1.org"][0] == refs["ref1.org"]  # untouched: not even rewritten
    assert after["ref2.org"][0] != refs["ref2.org"] and after["ref2.org"][1] == 0


def test_a_refdomain_row_with_a_bad_ip_is_reported(site):
    result = load(
        site, [RefDomainRow(2, "a.com", ip="999.1.1.1"), RefDomainRow(3, "b.com")], kind=ImportKind.REFDOMAINS
    )
    assert [(e["line"], e["field"]) for e in result.row_errors] == [(2, "ip")]
    assert list(RefDomain.objects.values_list("domain", flat=True)) == ["b.com"]


@pytest.mark.parametrize(
    "url",
    [
        "https://www.example.com/a", "http://WWW.Blog.Example.co.uk:8080/x", "https://user:pw@shop.example.de/",
        "https://192.0.2.1/page", "https://[2001:db8::1]/x", "https://bücher.example/", "https://xn--bcher-kva.de/",
        "https://www.co.uk/", "https://foo.blogspot.com/post", "https://a_b.example.org/", "https://example.com./x",
        "https://www.example/", "https://localhost/x", "https://1.2.3.4.5/", "HTTPS://WWW.EXAMPLE.COM/",
    ],
)  # fmt: skip
def test_the_fast_host_path_names_hosts_exactly_as_the_domain_helpers(url):
    from audit.loading import NETLOC, host_and_domain
    from linkcrm.lib.domains import host_of_url, registrable_domain

    host = host_of_url(url)
    assert host_and_domain(NETLOC.match(url).group(1), "source_url") == (host, registrable_domain(host))


@pytest.mark.parametrize(
    "name",
    [
        "example.com", "example.co.uk", "www.example.co.uk", "www.co.uk", "co.uk", "foo.blogspot.com",
        "www.ck", "a.b.c.kawasaki.jp", "localhost", "192.0.2.1", "xn--bcher-kva.de", "bücher.de",
        "Example.COM", "a_b.example.org", "example.com.", "",
    ],
)  # fmt: skip
def test_the_fast_suffix_path_names_suffixes_exactly_as_the_domain_helpers(name):
    from audit.loading import _tld
    from linkcrm.lib.domains import DomainError, tld_of_host

    try:
        expected = tld_of_host(name)
    except DomainError:
        expected = ""
    assert _tld(name) == expected


def test_the_fast_host_path_agrees_with_the_helpers_on_real_exports(samples_dir):
    import csv

    from audit.loading import NETLOC, host_and_domain
    from linkcrm.lib.domains import host_of_url, registrable_domain

    with (samples_dir / "semrush" / "backlink_audit_domains_27811604_2026-02-06.csv").open(
        newline=""
    ) as handle:
        urls = [row["Source URL"] for row in csv.DictReader(handle)]
    assert len(urls) > 10000
    for url in urls:
        host = host_of_url(url)
        assert host_and_domain(NETLOC.match(url).group(1), "source_url") == (
            host,
            registrable_domain(host),
        ), url


# --- every real sample, end to end (detect → parse → COPY → merge → aggregates) ------------

SAMPLES = [
    # path, format, rows read, links, lost links, referring domains, of which with live links
    ("semrush/acceleratinght.org-backlinks.csv", "semrush_backlinks", 226, 220, 16, 143, 138),
    ("semrush/backlink_audit_domains_27811604_2026-02-06.csv", "semrush_audit", 13250, 13250, 0, 2776, 2776),
    ("semrush/www.caldea.com-backlinks_refdomains.csv", "semrush_refdomains", 1827, 0, 0, 1659, 0),
    ("ahrefs/www.caldea.com-backlinks-subdomains.csv", "ahrefs_backlinks", 1508, 1508, 378, 1508, 1130),
    ("gsc/www.sparkshark.com-latest-links-2026-05-10.csv", "gsc_latest_links", 28, 28, 0, 17, 17),
    ("gsc/www.sparkshark.com-more-sample-links-2026-05-10.csv", "gsc_sample_links", 28, 28, 0, 17, 17),
    ("gsc/www.sparkshark.com-top-linking-sites-2026-05-10.csv", "gsc_top_sites", 17, 0, 0, 17, 0),
]


@pytest.mark.parametrize(("path", "fmt", "read", "links", "lost", "refdomains", "live_refdomains"), SAMPLES)
def test_every_sample_export_imports_end_to_end(
    samples_dir, settings, tmp_path, path, fmt, read, links, lost, refdomains, live_refdomains
):
    from django.core.files import File

    from audit.choices import ImportStatus
    from audit.services import link_import_run, link_import_store

    settings.MEDIA_ROOT = tmp_path
    site = Site.objects.create(domain="example.com")
    with (samples_dir / path).open("rb") as handle:
        stored = link_import_store(
            site=site, uploaded_file=File(handle, name=path.rsplit("/", 1)[1]), created_by=None
        )
    result = link_import_run(import_id=stored.id)
    assert (result.status, result.format, result.error) == (ImportStatus.SUCCEEDED, fmt, "")
    assert (result.rows_read, result.rows_imported, result.rows_skipped, result.row_errors) == (
        read,
        read,
        0,
        [],
    )
    assert result.rows_new == (links or refdomains)
    assert Backlink.objects.filter(site=site).count() == links
    assert Backlink.objects.filter(site=site, lost_at__isnull=False).count() == lost
    assert RefDomain.objects.filter(site=site).count() == refdomains
    assert RefDomain.objects.filter(site=site, backlinks__gt=0).count() == live_refdomains
    assert not RefDomain.objects.filter(site=site, tld="").exclude(domain__regex=r"^[0-9.]+$").exists()
    before = snapshot(with_xmin=True)
    again = link_import_store(
        site=site, uploaded_file=File((samples_dir / path).open("rb"), name="again.csv"), created_by=None
    )
    again = link_import_run(import_id=again.id)
    assert (again.status, again.rows_new, again.rows_lost) == (ImportStatus.SUCCEEDED, 0, 0)
    assert snapshot(with_xmin=True) == before  # importing the same export twice changes nothing


def test_a_sample_of_links_marks_nothing_lost(samples_dir, settings, tmp_path):
    """Search Console's "more sample links" is a sample, not a snapshot: what it omits stays live."""
    from django.core.files import File

    from audit.services import link_import_run, link_import_store

    settings.MEDIA_ROOT = tmp_path
    site = Site.objects.create(domain="sparkshark.com")
    load(site, [link(n, site="sparkshark.com") for n in range(5)])
    with (samples_dir / "gsc" / "www.sparkshark.com-more-sample-links-2026-05-10.csv").open("rb") as handle:
        stored = link_import_store(site=site, uploaded_file=File(handle, name="sample.csv"), created_by=None)
    assert stored.full_snapshot is False
    result = link_import_run(import_id=stored.id)
    assert (result.rows_new, result.rows_lost) == (28, 0)
    assert not Backlink.objects.filter(site=site, lost_at__isnull=False).exists()


# --- chunked merging (a million-row export is merged 50k rows at a time) ------------------


@pytest.fixture
def small_chunks(monkeypatch):
    from audit import loading

    monkeypatch.setattr(loading, "COPY_BATCH_ROWS", 2)
    monkeypatch.setattr(loading, "CHUNK_ROWS", 4)


def test_chunked_merges_keep_what_a_single_merge_does(site, small_chunks):
    result = load(
        site, [link(n) for n in range(10)] + [link(1, anchor="last", line=50)], on=dt.date(2025, 6, 1)
    )
    assert (result.rows_read, result.rows_imported, result.rows_new) == (11, 11, 10)
    assert by_url(site)[link(1).source_url].anchor == "anchor 1"  # the first line wins across chunks too
    result = load(site, [link(n) for n in range(1, 10)], on=dt.date(2025, 7, 1))
    assert (result.rows_new, result.rows_lost) == (0, 1)
    rows = [link(n) for n in range(10)] + [link(1, anchor="last", line=50)]
    result = load(site, rows, on=dt.date(2025, 8, 1))
    assert (result.rows_new, result.rows_lost) == (1, 0)  # link 0 found again, in the first chunk
    before = snapshot(with_xmin=True)
    load(site, rows, on=dt.date(2025, 9, 1))
    assert snapshot(with_xmin=True) == before


def test_a_database_error_in_a_later_chunk_fails_the_load(site, small_chunks):
    from django.db import DatabaseError, connection

    load(site, [link(n) for n in range(3)])
    before = snapshot()
    with connection.cursor() as cursor:
        cursor.execute(
            """CREATE FUNCTION test_refuse_link() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN IF NEW.source_url LIKE '%post-17' THEN RAISE EXCEPTION 'disk on fire'; END IF;
               RETURN NEW; END $$;
               CREATE TRIGGER test_refuse_link BEFORE INSERT ON audit_backlink
               FOR EACH ROW EXECUTE FUNCTION test_refuse_link();"""
        )
    with pytest.raises(DatabaseError, match="disk on fire"):
        load(site, [link(n) for n in range(10, 30)])
    assert snapshot() == before
