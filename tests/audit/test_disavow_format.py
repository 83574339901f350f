"""The disavow file format: per-line checks, normalisation, writing with limits, diffs, the command."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from audit import disavow
from audit.choices import DisavowKind
from audit.disavow import DisavowLine, DisavowRefused, Severity, diff_disavow, parse_disavow, render_disavow

WHEN = datetime(2026, 3, 1, 12, 0)


def _issues(check: disavow.DisavowCheck, severity: Severity) -> dict[int, str]:
    return {issue.line: issue.message for issue in check.issues if issue.severity == severity}


def test_it_reports_what_google_would_reject_on_which_line():
    data = (
        "# header\n"
        "domain:good.com\n"
        "domain:example.com/blog\n"
        "example.org\n"
        "domain:https://spam.net/\n"
        "https://x.com/" + "a" * 2100 + "\n"
        "domain:two words.com\n"
    ).encode()
    check = parse_disavow(data)
    errors = _issues(check, Severity.ERROR)
    assert sorted(errors) == [3, 4, 5, 6, 7]
    assert "subpath" in errors[3]
    assert "neither a URL" in errors[4]
    assert "not a URL" in errors[5]
    assert "2,048" in errors[6]
    assert check.google_would_reject
    assert [entry.text for entry in check.entries] == ["domain:good.com"]


def test_it_refuses_bad_utf8_and_too_many_lines():
    check = parse_disavow(b"domain:ok.com\ndomain:caf\xe9.com\n")
    assert _issues(check, Severity.ERROR) == {2: "not UTF-8 (byte 0xe9 at column 11)"}
    big = parse_disavow(b"domain:a.com\n" * (disavow.MAX_LINES + 1))
    assert any(issue.line == 0 and "100,000" in issue.message for issue in big.errors)


def test_it_normalises_punycode_www_case_and_duplicates():
    check = parse_disavow("domain:www.Spam.com\nDOMAIN:bücher.de\ndomain:spam.com\nhttps://WWW.Bücher.de/x?a=1\n".encode())
    assert [entry.text for entry in check.entries] == [
        "domain:spam.com", "domain:xn--bcher-kva.de", "https://www.xn--bcher-kva.de/x?a=1",
    ]
    notes = _issues(check, Severity.NOTE)
    assert "www. folded" in notes[1] and "punycode" in notes[4] and "duplicate of line 1" in notes[3]
    assert not check.errors


def test_it_warns_about_risky_lines():
    data = b"domain:org.br\ndomain:youtube.com\ndomain:someone.blogspot.com\ndomain:acme.com\nhttps://rival.com/p\n"
    check = parse_disavow(data, own_domains={"acme.com"}, tracked_domains={"rival.com", "acme.com"})
    warnings = _issues(check, Severity.WARNING)
    assert sorted(warnings) == [1, 2, 4, 5]
    assert "public suffix" in warnings[1]
    assert "large platform" in warnings[2]
    assert "your own site" in warnings[4]
    assert "competitor" in warnings[5]
    assert len(check.entries) == 5 and not check.google_would_reject


def test_reasons_come_from_the_comment_above_and_survive_a_write():
    data = b"# Header\n\n# PBN farm\ndomain:a.com\ndomain:b.com\n\ndomain:c.com\n# Shops\nhttps://d.com/x\n"
    entries = parse_disavow(data).entries
    assert [(e.text, e.reason) for e in entries] == [
        ("domain:a.com", "PBN farm"), ("domain:b.com", "PBN farm"), ("domain:c.com", ""),
        ("https://d.com/x", "Shops"),
    ]
    text = render_disavow(entries, site_domain="acme.com", exported_at=WHEN, version=2)
    assert text.startswith("# Disavow file for acme.com (version 2)\n# Exported by LinkCRM on 2026-03-01 12:00")
    again = parse_disavow(text.encode())
    assert [(e.text, e.reason) for e in again.entries] == [
        ("domain:c.com", ""), ("domain:a.com", "PBN farm"), ("domain:b.com", "PBN farm"),
        ("https://d.com/x", "Shops"),
    ]
    assert not again.issues


def test_the_sample_file_round_trips(samples_dir: Path):
    original = parse_disavow((samples_dir / "disavow" / "lucaberton.com-disavow.txt").read_bytes())
    assert not original.errors and len(original.entries) == 24
    text = render_disavow(original.entries, site_domain="lucaberton.com", exported_at=WHEN)
    again = parse_disavow(text.encode("utf-8"))
    assert [(e.text, e.reason) for e in again.entries] == [(e.text, e.reason) for e in original.entries]
    assert "domain:sites.jake.eu" in text.splitlines()


def test_the_writer_refuses_past_googles_limits():
    long_url = DisavowLine(1, DisavowKind.URL, "https://a.com/" + "x" * 2100)
    with pytest.raises(DisavowRefused, match="2,048"):
        render_disavow([long_url], site_domain="a.com", exported_at=WHEN)
    many = [DisavowLine(n, DisavowKind.DOMAIN, f"d{n}.com") for n in range(disavow.MAX_LINES)]
    with pytest.raises(DisavowRefused, match="100,000"):
        render_disavow(many, site_domain="a.com", exported_at=WHEN)
    big = [DisavowLine(n, DisavowKind.URL, f"https://a.com/{n}/" + "y" * 1000) for n in range(2100)]
    with pytest.raises(DisavowRefused, match="2 MB"):
        render_disavow(big, site_domain="a.com", exported_at=WHEN)


def test_a_diff_lists_added_and_removed_entries():
    old = "# v1\ndomain:a.com\ndomain:b.com\n"
    new = "# v2\ndomain:b.com\n# new\ndomain:c.com\n"
    diff = diff_disavow(old, new, old_label="v1", new_label="v2")
    assert (diff.added, diff.removed) == (["domain:c.com"], ["domain:a.com"])
    assert "-domain:a.com" in diff.unified and "+domain:c.com" in diff.unified


def test_the_command_prints_each_problem_and_fails_when_google_would_reject(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"domain:ok.com\ndomain:org.br\ndomain:x.com/path\n")
    with pytest.raises(CommandError, match="Google would reject"):
        call_command("disavow_check", str(bad))
    out, err = capsys.readouterr()
    assert f"{bad}:line 2: warning: org.br is a public suffix" in out
    assert f"{bad}:line 3: error: a subpath cannot be disavowed" in err
    good = tmp_path / "good.txt"
    good.write_bytes(b"# fine\ndomain:ok.com\n")
    call_command("disavow_check", str(good))
    assert "1 entries, 0 errors" in capsys.readouterr().out


@pytest.mark.django_db
def test_the_command_with_site_warns_about_your_own_and_tracked_sites(tmp_path, capsys):
    from audit.services import site_get_or_create

    site_get_or_create(domain_or_url="rival.com")
    path = tmp_path / "mine.txt"
    path.write_bytes(b"domain:blog.mine.com\ndomain:rival.com\ndomain:other.com\n")
    call_command("disavow_check", str(path), "--site", "https://www.mine.com/")
    out = capsys.readouterr().out
    assert f"{path}:line 1: warning: mine.com is your own site" in out
    assert f"{path}:line 2: warning: rival.com is a site tracked in LinkCRM" in out
    assert "line 3" not in out
