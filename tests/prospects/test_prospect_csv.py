"""Importing prospects from CSV: columns by name, per-line errors, merges, refusals that change nothing."""

from __future__ import annotations

import pytest

from prospects.choices import ProspectSource, Stage, SuppressionKind
from prospects.models import Note, Prospect, StageChange, Suppression
from prospects.prospect_csv import CsvRefused, parse_prospects_csv
from prospects.services.creation import prospects_import_csv
from prospects.services.pipeline import prospects_assign
from tests.prospects.pipeline_helpers import make_project, make_prospects

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(alice, bob):
    return make_project("Shop", alice, bob)


def run(project, user, text: str | bytes):
    data = text.encode() if isinstance(text, str) else text
    return prospects_import_csv(project=project, data=data, created_by=user)


def test_it_imports_domains_with_tags_assignee_and_notes(project, alice, bob):
    result = run(
        project,
        alice,
        (
            "Website;Tags;Assigned to;Notes\n"
            "https://www.Hiking-Blog.com/reviews;blog, Outdoor;BOB;Editor: Jane\n"
            "trail.co.uk;;;\n"
        ),
    )
    assert (result.rows, result.created, result.errors, result.merged) == (2, 2, [], [])
    hiking = Prospect.objects.get(domain="hiking-blog.com")
    assert (hiking.tags, hiking.assignee, hiking.source, hiking.stage) == (
        ["blog", "outdoor"],
        bob,
        ProspectSource.CSV,
        Stage.IN_PROGRESS,
    )
    assert list(Note.objects.values_list("prospect__domain", "body", "author")) == [
        ("hiking-blog.com", "Editor: Jane", alice.pk)
    ]
    assert Prospect.objects.get(domain="trail.co.uk").assignee is None
    assert StageChange.objects.filter(actor=alice, to_stage=Stage.IN_PROGRESS).count() == 2


def test_bad_lines_are_reported_and_skipped_the_rest_imported(project, alice, outsider):
    result = run(
        project,
        alice,
        (
            "domain,assignee,tags\n"
            "good.com,,\n"
            "not a domain,,\n"
            "fine.org,outsider,\n"
            f"ok.net,,{'x' * 60}\n"
            ",alice,\n"
            "192.168.0.1,,\n"
        ),
    )
    assert [(e.line, e.field) for e in result.errors] == [
        (3, "domain"),
        (4, "assignee"),
        (5, "tags"),
        (6, "domain"),
        (7, "domain"),
    ]
    assert "not a member of Shop" in result.errors[1].message
    assert result.errors[3].message == "no domain or URL"
    assert "IP address" in result.errors[4].message
    assert list(Prospect.objects.values_list("domain", flat=True)) == ["good.com"]


def test_repeated_domains_in_the_file_are_merged_and_reported(project, alice, bob):
    result = run(
        project,
        alice,
        ("url,tags,notes,owner\nhttps://a.com/one,blog,first,\nhttps://blog.a.com/two,news,second,bob\n"),
    )
    assert result.created == 1
    assert [(m.line, m.message) for m in result.merged] == [(3, "a.com repeats line 2: merged")]
    prospect = Prospect.objects.get()
    assert (prospect.tags, prospect.assignee) == (["blog", "news"], bob)
    assert sorted(Note.objects.values_list("body", flat=True)) == ["first", "second"]


def test_existing_prospects_get_the_files_tags_and_notes_but_keep_their_assignee(project, alice, bob):
    taken, free = make_prospects(project, "taken.com", "free.com", by=alice, tags=["old"])
    prospects_assign(project=project, prospect_ids=[taken.pk], assignee=alice)
    result = run(project, bob, "domain,tags,assignee,notes\ntaken.com,new,bob,hello\nfree.com,,bob,\n")
    assert result.created == 0
    assert [(m.line, m.message) for m in result.merged] == [
        (2, "taken.com was already a prospect: merged into it"),
        (3, "free.com was already a prospect: merged into it"),
    ]
    taken.refresh_from_db()
    free.refresh_from_db()
    assert (taken.tags, taken.assignee, free.assignee) == (["old", "new"], alice, bob)
    assert Note.objects.get().body == "hello"
    assert StageChange.objects.filter(actor=bob).count() == 0


def test_suppressed_domains_are_reported_with_their_line(project, alice):
    Suppression.objects.create(project=None, kind=SuppressionKind.DOMAIN, value="nope.com")
    result = run(project, alice, "domain,notes\nyes.com,\nwww.nope.com,do not\n")
    assert [(s.line, s.message) for s in result.suppressed] == [(3, "nope.com is on a do-not-contact list")]
    assert list(Prospect.objects.values_list("domain", flat=True)) == ["yes.com"]
    assert not Note.objects.exists()


def test_a_plain_list_without_header_is_read_from_the_first_line(project, alice):
    result = run(project, alice, "one.com\nhttps://two.com/x\n\nthree.com\n")
    assert (result.rows, result.created) == (3, 3)


def test_line_numbers_count_physical_lines_of_multiline_cells():
    rows = parse_prospects_csv(b'domain,notes\na.com,"two\nlines"\n\nb.com,x\n')
    assert [(r.line, r.domain, r.notes) for r in rows] == [(2, "a.com", "two\nlines"), (5, "b.com", "x")]


def test_utf16_and_bom_files_are_read():
    text = "\ufeffDomain\tTags\nbücher.de\tbuch\n"
    assert parse_prospects_csv(text.encode("utf-16"))[0].domain == "bücher.de"
    assert parse_prospects_csv(text.encode("utf-8"))[0].tags == "buch"


@pytest.mark.parametrize(
    ("data", "message", "line"),
    [
        (b"", "the file is empty", None),
        (b"\n\n", "the file is empty", None),
        (b"name,email\nJane,jane@x.com\n", "no domain column", 1),
        (b"domain\n", "header but no rows", 1),
        (b"domain\na.com\nb\xe9b\xe9.com\n", "not UTF-8 text", 3),
        (b'domain,notes\na.com,"never closed\nb.com,x\n', "not valid CSV", 2),
    ],
)
def test_unreadable_files_are_refused_and_nothing_changes(project, alice, data, message, line):
    with pytest.raises(CsvRefused) as refused:
        run(project, alice, data)
    assert message in refused.value.message and refused.value.line == line
    assert not Prospect.objects.exists()


def test_tags_beyond_the_limit_are_reported_not_fatal(project, alice):
    prospect = make_prospects(project, "full.com", by=alice)[0]
    Prospect.objects.filter(pk=prospect.pk).update(tags=[f"t{n}" for n in range(19)])
    result = run(project, alice, "domain,tags\nfull.com,a;b;c\nother.com,x\n")
    issues = [(e.line, e.field, e.message) for e in result.errors]
    assert issues == [(2, "tags", "only the first 20 tags were kept")]
    assert Prospect.objects.get(pk=prospect.pk).tags == [*(f"t{n}" for n in range(19)), "a"]
    assert Prospect.objects.get(domain="other.com").tags == ["x"]
