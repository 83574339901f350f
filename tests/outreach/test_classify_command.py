"""``manage.py classify_email FILE...``: one line per file, errors named, exit 1 on any error."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from linkcrm.localstack.config import BASE_DIR


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("classify_email", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def emails(samples_dir) -> Path:
    return samples_dir / "emails"


def test_it_prints_kind_recipient_permanence_and_reason_per_file(emails):
    files = [
        emails / "bounces" / "lhost-postfix-02.eml",
        emails / "bounces" / "lhost-exim-01.eml",
        emails / "bounces" / "lhost-gmx-01.eml",
        emails / "auto-replies" / "rfc3834-01.eml",
        emails / "complaints" / "arf-01.eml",
        emails / "human-replies" / "gmail.eml",
    ]
    out, err = run(*map(str, files))
    assert err == ""
    assert out.splitlines() == [
        f"{files[0]}: bounce [filtered@example.co.jp permanent, userunknown@example.co.jp permanent] "
        "(RFC 3464 delivery-status report (failed, Status 5.2.1))",
        f"{files[1]}: bounce [kijitora@example.ed.jp infrastructure] "
        "(non-standard bounce: X-Failed-Recipients header)",
        f"{files[2]}: bounce [shironeko@example.jp transient] "
        "(non-standard bounce: from MAILER-DAEMON@mail.gmx.com, "
        "subject 'Mail delivery failed: returning message to sender')",
        f"{files[3]}: auto-reply [back 2005-05-05] (Auto-Submitted: auto-replied)",
        f"{files[4]}: complaint [redacted@example.net] (ARF feedback report (Feedback-Type: abuse))",
        f"{files[5]}: reply (no automatic, delivery or list signals)",
    ]


def test_verbose_output_shows_codes_diagnostics_and_the_bounced_message_id(emails):
    out, _ = run("-v", "2", str(emails / "bounces" / "lhost-sendmail-01.eml"))
    assert "    status 5.1.1: 550 5.1.1 <userunknown@bouncehammer.jp>... User Unknown" in out
    assert "    original message-id: <E1C50F1B-1C83-4820-BC36-AC6FBFBE8568@example.org>" in out


def test_our_address_makes_a_message_our_own(emails):
    path = emails / "human-replies" / "gmail.eml"  # From xxx@gmail.com
    out, _ = run("--our-address", "XXX@gmail.com", str(path))
    assert out == f"{path}: own (From xxx@gmail.com is one of our addresses)\n"


def test_unreadable_and_non_email_files_are_named_and_the_rest_still_classified(emails, tmp_path):
    missing, not_email = tmp_path / "missing.eml", tmp_path / "export.csv"
    not_email.write_bytes(b"Domain ascore,Domain\n12,example.com\n")
    good = emails / "human-replies" / "yahoo.eml"
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="2 of 3 file"):
        call_command("classify_email", str(missing), str(not_email), str(good), stdout=out, stderr=err)
    assert err.getvalue().splitlines() == [
        f"{missing}: error: No such file or directory",
        f"{not_email}: error: not an email message (no From, To, Subject, Date or Message-ID header)",
    ]
    assert out.getvalue() == f"{good}: reply (no automatic, delivery or list signals)\n"


def test_it_runs_as_a_real_process_with_exit_codes(emails, tmp_path):
    command = [sys.executable, str(BASE_DIR / "manage.py"), "classify_email"]
    samples = [
        str(emails / "bounces" / "lhost-qmail-01.eml"),
        str(emails / "auto-replies" / "rfc3834-03.eml"),
    ]
    ok = subprocess.run(
        [*command, *samples], env=os.environ, capture_output=True, text=True, timeout=120, check=False
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines() == [
        f"{samples[0]}: bounce [kijitora@example.ne.jp permanent] "
        "(non-standard bounce: from MAILER-DAEMON@mx4.example.jp, subject 'failure notice')",
        f"{samples[1]}: auto-reply [back 2020-01-11] (X-Apple-Action: VACATION)",
    ]
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"")
    failed = subprocess.run(
        [*command, str(empty), samples[0]],
        env=os.environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert failed.returncode == 1
    assert f"{empty}: error: empty message" in failed.stderr
    assert "1 of 2 file(s) could not be read or parsed" in failed.stderr
    assert failed.stdout.startswith(f"{samples[0]}: bounce")
