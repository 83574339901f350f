"""Inbound mail classification: every real sample, and the synthetic cases the samples lack.

The truth for each sample was read off the file by hand (see docs/classification.md for the
decisions: a full mailbox is transient, a refused sender or blocklist is infrastructure, the
address reported is the one we sent to).
"""

from __future__ import annotations

from datetime import date, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest

from outreach.choices import MessageKind
from outreach.classify import Classification, classify_message
from outreach.mailparts import addresses, header_text, parse_message, readable_text

OURS = "outreach@linkcrm.example"
OUR_ID = "<20240301.1@linkcrm.example>"

# file → [(failed recipient, verdict, status code)], Message-ID of the bounced message
BOUNCES: dict[str, tuple[list[tuple[str, str, str]], str | None]] = {
    "lhost-amazonses-01.eml": (
        [("shironeko@example.co.jp", "permanent", "5.1.0")],
        "<000001321defbd2a-788e31c8-2be1-422f-a8d4-cf7765cc9ed7-000000@email.amazonses.com>",
    ),
    "lhost-courier-01.eml": ([("kijitora@example.co.jp", "permanent", "5.1.1")], None),
    "lhost-exchange2007-01.eml": ([("mikeneko@example.co.jp", "permanent", "5.1.1")], None),
    # "Please use the smtp server of your ISP", refused after MAIL FROM: our side, not the address.
    "lhost-exim-01.eml": (
        [("kijitora@example.ed.jp", "infrastructure", "5.7.0")],
        "<E1P1ce6-000Egt-GZ@e1.example.org>",
    ),
    "lhost-gmail-01.eml": (
        [("userunknown@example.jp", "permanent", "5.1.1")],
        "<D992C2C3-F175-4C4D-97E2-53A90E4E5BF5@gmail.com>",
    ),
    # 5.2.2 Mailbox Full: the address exists; GMX's "permanent error" wording does not change that.
    "lhost-gmx-01.eml": (
        [("shironeko@example.jp", "transient", "5.2.2")],
        "<trinity-d174cb7e-d4a8-4dd5-8b53-7a9f70928e75-1417217529360@3capp-mailcom-lxa02>",
    ),
    "lhost-mailru-01.eml": (
        [("kijitora@example.jp", "permanent", "5.1.1")],
        "<8F3CE2D8-D60E-48C3-B9AF-BED628EE2CA5@mail.example.ru>",
    ),
    # multipart/report without a delivery-status part: read from the text.
    "lhost-office365-01.eml": (
        [("kijitora@example.com", "permanent", "5.1.10")],
        "<FFFFFFFF.EEEEEEEE@example.ed.jp>",
    ),
    "lhost-opensmtpd-01.eml": ([("apdugoaidugoaidugoaeiudggadi@gmail.com", "permanent", "5.1.1")], None),
    "lhost-outlook-01.eml": (
        [("kijitora@example.jp", "transient", "5.2.2")],
        "<BLU436-SMTP6645ECA6E7FEFFE86D040BBA770@phx.gbl>",
    ),
    # Final-Recipient is the local alias r@…; Original-Recipient is the address we sent to.
    "lhost-postfix-01.eml": ([("kijitora@example.org", "permanent", "5.1.1")], None),
    "lhost-postfix-02.eml": (
        [
            ("filtered@example.co.jp", "permanent", "5.2.1"),
            ("userunknown@example.co.jp", "permanent", "5.1.1"),
        ],
        None,
    ),
    "lhost-qmail-01.eml": (
        [("kijitora@example.ne.jp", "permanent", "5.5.0")],
        "<000000000.9999999999999.JavaMail.postmaster@mailhub>",
    ),
    "lhost-sendgrid-01.eml": (
        [("kijitora@example.jp", "permanent", "5.1.1")],
        "<F9B4AEED-722D-47FD-929E-3625AF2161BB@example.jp>",
    ),
    "lhost-sendmail-01.eml": (
        [("userunknown@bouncehammer.jp", "permanent", "5.1.1")],
        "<E1C50F1B-1C83-4820-BC36-AC6FBFBE8568@example.org>",
    ),
    "lhost-yahoo-01.eml": (
        [("kijitora@example.org", "permanent", "5.1.1")],
        "<6AE6249A-E7A8-4980-862C-F499F6B8E7C5@y.example.co.jp>",
    ),
    "lhost-yandex-01.eml": (
        [("kijitora@example.jp", "permanent", "5.1.1")],
        "<446281417885946@web20h.yandex.ru>",
    ),
    "lhost-zoho-01.eml": (
        [("kijitora@example.co.jp", "permanent", "5.1.1")],
        "<14a3e1b4b5a.10b1a4c5610175.8588386083425091336@zoho.example.com>",
    ),
    # The human part says "Not enough disk space"; the machine-readable report says 5.1.1 and wins.
    "rfc3464-01.eml": (
        [("userunknown@bouncehammer.jp", "permanent", "5.1.1")],
        "<E1C50F1B-1C83-4820-BC36-AC6FBFBE8568@example.org>",
    ),
    # "554 Mail from … rejected for policy reasons (in reply to MAIL FROM)": infrastructure.
    "rfc3464-03.eml": (
        [("kijitora@example.com", "infrastructure", "5.0.0")],
        "<220000000022.0000.0000000000000000222@NEKO.NYAAN>",
    ),
    # Its closing MIME boundary is wrong: the text/rfc822-headers part sits inside the report.
    "rhost-google-01.eml": (
        [("shironeko@example.ne.jp", "permanent", "5.2.1")],
        "<201305110000000000000.r4B003v000000@mail4.example.co.jp>",
    ),
    "rhost-outlook-01.eml": (
        [("kijitora@example.jp", "transient", "5.2.2")],
        "<BLU436-SMTP6645ECA6E7FEFFE86D040BBA770@phx.gbl>",
    ),
}
# file → (reason, return date)
AUTO_REPLIES: dict[str, tuple[str, date | None]] = {
    "rfc3834-01.eml": ("Auto-Submitted: auto-replied", date(2005, 5, 5)),  # "Away until May 5"
    "rfc3834-02.eml": ("X-Auto-Response-Suppress: All", None),  # "out of the office Friday": no return day
    "rfc3834-03.eml": ("X-Apple-Action: VACATION", date(2020, 1, 11)),  # endDate=2020-01-10T14:59:59Z
}
HUMAN_REPLIES = ["android.eml", "apple_mail.eml", "gmail.eml", "outlook.eml", "thunderbird.eml", "yahoo.eml"]


def verdict(permanent: bool | None, infrastructure: bool) -> str:
    if infrastructure:
        return "infrastructure"
    return {True: "permanent", False: "transient", None: "undetermined"}[permanent]


def classify_sample(path: Path, **kwargs) -> Classification:
    """Classify a sample as our mailbox would see it: its To is our address."""
    raw = path.read_bytes()
    ours = addresses(header_text(parse_message(raw), "To"))
    return classify_message(raw, our_addresses=ours, **kwargs)


# --- the real samples -------------------------------------------------------------------


def test_every_sample_has_an_expected_class(samples_dir):
    emails = samples_dir / "emails"
    on_disk = {p.name for p in emails.glob("*/*.eml")}
    assert on_disk == set(BOUNCES) | set(AUTO_REPLIES) | {"arf-01.eml"} | set(HUMAN_REPLIES)


@pytest.mark.parametrize("name", sorted(BOUNCES))
def test_it_reads_each_real_bounce(samples_dir, name):
    expected_recipients, expected_original = BOUNCES[name]
    result = classify_sample(samples_dir / "emails" / "bounces" / name)
    assert result.kind == MessageKind.BOUNCE, result.reason
    got = [(r.address, verdict(r.permanent, r.infrastructure), r.status_code) for r in result.bounced]
    assert got == expected_recipients
    assert result.failed_recipients == tuple(r for r, _, _ in expected_recipients)
    first = expected_recipients[0]
    assert (verdict(result.permanent, result.infrastructure), result.status_code) == (first[1], first[2])
    assert result.original_message_id == expected_original
    assert result.diagnostic


@pytest.mark.parametrize("name", sorted(AUTO_REPLIES))
def test_it_reads_each_real_auto_reply(samples_dir, name):
    reason, back = AUTO_REPLIES[name]
    result = classify_sample(samples_dir / "emails" / "auto-replies" / name)
    assert (result.kind, result.reason, result.return_date) == (MessageKind.AUTO_REPLY, reason, back)


def test_the_apple_vacation_reply_keeps_its_thread_ids(samples_dir):
    result = classify_sample(samples_dir / "emails" / "auto-replies" / "rfc3834-03.eml")
    assert result.in_reply_to == ("<25203A4E-F90F-4A14-BF51-3E7B9D39BE8E@libsisimai.org>",)
    assert result.references == ("<25203A4E-F90F-4A14-BF51-3E7B9D39BE8E@libsisimai.org>",)


def test_received_at_sets_the_year_of_a_return_date_without_one(samples_dir):
    result = classify_sample(
        samples_dir / "emails" / "auto-replies" / "rfc3834-01.eml", received_at=datetime(2023, 4, 30, 8, 0)
    )
    assert result.return_date == date(2023, 5, 5)


def test_it_reads_the_real_abuse_report_as_a_complaint(samples_dir):
    result = classify_sample(samples_dir / "emails" / "complaints" / "arf-01.eml")
    assert result.kind == MessageKind.COMPLAINT
    assert (result.feedback_type, result.complained_recipient) == ("abuse", "redacted@example.net")
    assert result.failed_recipients == ()


@pytest.mark.parametrize("name", HUMAN_REPLIES)
def test_real_human_replies_are_replies(samples_dir, name):
    result = classify_sample(samples_dir / "emails" / "human-replies" / name)
    assert result.kind == MessageKind.REPLY, result.reason


def test_a_reply_keeps_its_in_reply_to(samples_dir):
    result = classify_sample(samples_dir / "emails" / "human-replies" / "yahoo.eml")
    assert result.in_reply_to == ("<1333374262.7063.15.camel@mg5>",)
    assert result.from_address == "xxx@yahoo.com"


def test_a_bounce_names_our_message_id_when_we_pass_it(samples_dir):
    path = samples_dir / "emails" / "bounces" / "lhost-sendmail-01.eml"
    result = classify_sample(path, our_message_ids=["E1C50F1B-1C83-4820-BC36-AC6FBFBE8568@example.org"])
    assert result.original_message_id == "<E1C50F1B-1C83-4820-BC36-AC6FBFBE8568@example.org>"


def test_our_message_id_is_found_in_a_plain_text_bounce_without_a_message_id_line(samples_dir):
    # OpenSMTPD quotes no Message-ID; an id of ours that appears in the text is still found.
    raw = (samples_dir / "emails" / "bounces" / "lhost-opensmtpd-01.eml").read_bytes()
    raw = raw.replace(b"ESMTP id d70f9624;", b"ESMTP id d70f9624 <20240301.1@linkcrm.example>;")
    result = classify_message(raw, our_message_ids=[OUR_ID])
    assert result.kind == MessageKind.BOUNCE
    assert result.original_message_id == OUR_ID


# --- synthetic messages -----------------------------------------------------------------


def mail(
    *,
    subject: str = "Re: Guest post on your blog",
    body: str = "Sounds good, send me the draft.\n\nJane",
    sender: str = "Jane Doe <jane@prospect.example>",
    headers: dict[str, str] | None = None,
    message_id: str | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = OURS
    msg["Subject"] = subject
    msg["Date"] = "Mon, 04 Mar 2024 09:00:00 +0000"
    msg["Message-ID"] = message_id or make_msgid(domain="prospect.example")
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg.as_bytes()


def dsn(
    *recipients: dict[str, str],
    notification: str = "Your message could not be delivered.",
    original: str = OUR_ID,
) -> bytes:
    """A multipart/report delivery-status report with one block per recipient."""
    msg = EmailMessage()
    msg["From"] = "Mail Delivery System <MAILER-DAEMON@mx.prospect.example>"
    msg["To"] = OURS
    msg["Subject"] = "Undelivered Mail Returned to Sender"
    msg["Message-ID"] = make_msgid(domain="mx.prospect.example")
    msg.set_content(notification)
    msg.make_mixed()
    msg.set_type("multipart/report")
    msg.set_param("report-type", "delivery-status")
    status = EmailMessage()
    status["Content-Type"] = "message/delivery-status"
    blocks = []
    for fields in ({"Reporting-MTA": "dns; mx.prospect.example"}, *recipients):
        block = EmailMessage()
        for name, value in fields.items():
            block[name] = value
        blocks.append(block)
    status.set_payload(blocks)
    msg.attach(status)
    returned = EmailMessage()
    returned["From"], returned["To"], returned["Message-ID"] = OURS, "jane@prospect.example", original
    returned["Subject"] = "Guest post on your blog"
    returned.set_content("Hi Jane")
    wrapper = EmailMessage()
    wrapper.set_content(returned)
    msg.attach(wrapper)
    return msg.as_bytes()


def test_our_own_message_from_the_sent_folder_is_own():
    result = classify_message(mail(sender=f"Us <{OURS.upper()}>"), our_addresses=[OURS])
    assert result.kind == MessageKind.OWN
    assert OURS in result.reason


def test_our_own_message_echoed_back_under_another_from_is_recognised_by_its_message_id():
    # A list or forwarder rewrote From; the Message-ID we generated is still ours.
    raw = mail(sender="Guest list <list@prospect.example>", message_id=OUR_ID)
    result = classify_message(raw, our_addresses=[OURS], our_message_ids=["20240301.1@linkcrm.example"])
    assert result.kind == MessageKind.OWN
    assert OUR_ID in result.reason


def test_our_own_vacation_reply_is_own_not_an_auto_reply():
    raw = mail(sender=OURS, headers={"Auto-Submitted": "auto-replied"}, body="I am away until 12 March.")
    assert classify_message(raw, our_addresses=[OURS]).kind == MessageKind.OWN


def test_without_our_addresses_the_same_message_is_a_reply():
    assert classify_message(mail(sender=OURS)).kind == MessageKind.REPLY


def test_a_human_reply_quoting_an_auto_reply_is_a_reply():
    body = (
        "Happy to take a guest post, send it over.\n\n"
        "On Mon, 4 Mar 2024 at 08:00, Jane Doe <jane@prospect.example> wrote:\n"
        "> Automatic reply: I am out of the office until 12 March.\n"
        "> I will respond to your message upon my return.\n"
    )
    raw = mail(
        subject="Re: Automatic reply: Guest post on your blog", body=body, headers={"In-Reply-To": OUR_ID}
    )
    result = classify_message(raw, our_addresses=[OURS], our_message_ids=[OUR_ID])
    assert result.kind == MessageKind.REPLY, result.reason
    assert result.in_reply_to == (OUR_ID,)


def test_an_automatic_reply_subject_without_auto_headers_or_away_text_is_a_reply():
    # A person who kept the "Automatic reply:" subject while answering. Subject alone is weak:
    # missing a real reply costs more than showing an auto-reply to a person.
    raw = mail(subject="Automatic reply: Guest post on your blog", body="Yes, let's do it. Which topic?")
    result = classify_message(raw, our_addresses=[OURS])
    assert result.kind == MessageKind.REPLY
    assert "out-of-office subject alone is not enough" in result.reason


def test_an_automatic_reply_subject_with_away_text_is_an_auto_reply():
    raw = mail(
        subject="Automatic reply: Guest post on your blog",
        body="I am out of the office and will be back on 11 March.",
    )
    result = classify_message(raw, our_addresses=[OURS])
    assert result.kind == MessageKind.AUTO_REPLY
    assert result.reason == "out-of-office subject and out-of-office text"
    assert result.return_date == date(2024, 3, 11)


def test_away_text_in_a_reply_without_any_other_signal_is_a_reply():
    raw = mail(body="I'm on vacation next week, but yes: send the draft and I'll publish it.")
    assert classify_message(raw).kind == MessageKind.REPLY


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("Auto-Submitted", "auto-replied"),
        ("Auto-Submitted", "auto-generated"),
        ("X-Autoreply", "yes"),
        ("X-Autorespond", "Out of office"),
        ("Precedence", "auto_reply"),
        ("X-Auto-Response-Suppress", "All"),
    ],
)
def test_each_auto_reply_header_decides_alone(header, value):
    result = classify_message(
        mail(subject="Re: Guest post", body="Thanks for your email.", headers={header: value})
    )
    assert (result.kind, result.reason) == (MessageKind.AUTO_REPLY, f"{header}: {value}")


def test_auto_submitted_no_is_a_person():
    assert classify_message(mail(headers={"Auto-Submitted": "no"})).kind == MessageKind.REPLY


@pytest.mark.parametrize(
    ("text", "received", "back"),
    [
        ("I will be back on 12 March.", date(2024, 3, 4), date(2024, 3, 12)),
        ("I am returning Monday 3/14 and will reply then.", date(2024, 3, 8), date(2024, 3, 14)),
        ("I am out of the office until 2024-05-02.", date(2024, 4, 20), date(2024, 5, 2)),
        ("I'll be back in the office on Tuesday, 5 March.", date(2024, 3, 1), date(2024, 3, 5)),
        ("Returning Monday.", date(2024, 3, 1), date(2024, 3, 4)),  # 1 March 2024 was a Friday
        ("Out of office through Friday, March 8th.", date(2024, 3, 4), date(2024, 3, 9)),
        ("Back on 3 January.", date(2024, 12, 20), date(2025, 1, 3)),  # no year: the next 3 January
        ("Back on 5/3.", date(2024, 3, 1), date(2024, 3, 5)),  # ambiguous: the reading that comes first
        ("Ich bin bis zum 12. März nicht im Büro.", date(2024, 3, 4), date(2024, 3, 12)),
        ("Ab dem 14.03. bin ich wieder erreichbar.", date(2024, 3, 4), date(2024, 3, 14)),
        ("Je serai de retour le 18 mars.", date(2024, 3, 4), date(2024, 3, 18)),
        ("Estaré fuera de la oficina hasta el 20 de marzo.", date(2024, 3, 4), date(2024, 3, 20)),
        (
            "Away from 1 March until 12 March, back in the office 13 March.",
            date(2024, 3, 1),
            date(2024, 3, 13),
        ),
        ("I am out of the office Friday.", date(2024, 3, 4), None),
        ("I will get back to you as soon as possible.", date(2024, 3, 4), None),
    ],
)
def test_an_out_of_office_reply_states_its_return_date(text, received, back):
    raw = mail(subject="Out of office", body=text, headers={"Auto-Submitted": "auto-replied"})
    result = classify_message(raw, received_at=datetime(received.year, received.month, received.day, 9, 0))
    assert result.kind == MessageKind.AUTO_REPLY
    assert result.return_date == back


def test_without_received_at_the_date_header_gives_the_year():
    raw = mail(subject="Out of office", body="Back on 12 March.", headers={"Auto-Submitted": "auto-replied"})
    assert classify_message(raw).return_date == date(2024, 3, 12)  # Date: Mon, 04 Mar 2024


def test_a_return_date_in_the_quoted_original_is_not_read():
    body = "I am away and will answer when I can.\n\n> Could you get back to me by 20 March?\n"
    raw = mail(subject="Out of office", body=body, headers={"Auto-Submitted": "auto-replied"})
    assert classify_message(raw, received_at=datetime(2024, 3, 4)).return_date is None


@pytest.mark.parametrize("precedence", ["bulk", "junk", "list"])
def test_a_precedence_bulk_newsletter_is_bulk_not_a_reply(precedence):
    raw = mail(subject="This week in gardening", body="Our top 10 tools.", headers={"Precedence": precedence})
    result = classify_message(raw, our_addresses=[OURS])
    assert (result.kind, result.reason) == (MessageKind.BULK, f"Precedence: {precedence} (bulk or list mail)")


def test_a_newsletter_with_list_unsubscribe_is_bulk():
    headers = {"List-Unsubscribe": "<https://news.prospect.example/u/1>"}
    result = classify_message(mail(subject="Spring sale", body="20% off.", headers=headers))
    assert result.kind == MessageKind.BULK


def test_list_unsubscribe_on_an_answer_to_our_message_does_not_make_it_bulk():
    headers = {"List-Unsubscribe": "<https://crm.prospect.example/u/1>", "In-Reply-To": OUR_ID}
    result = classify_message(mail(headers=headers), our_message_ids=[OUR_ID])
    assert result.kind == MessageKind.REPLY


def test_a_vacation_program_reply_with_only_precedence_bulk_is_an_auto_reply():
    # Unix vacation(1): Precedence: bulk and an away text, no RFC 3834 header.
    raw = mail(
        subject="Re: Guest post", body="I am on vacation until 12 March.", headers={"Precedence": "bulk"}
    )
    result = classify_message(raw, received_at=datetime(2024, 3, 4))
    assert result.kind == MessageKind.AUTO_REPLY
    assert result.reason == "out-of-office text and Precedence: bulk"
    assert result.return_date == date(2024, 3, 12)


def test_a_blocklist_rejection_is_infrastructure_and_does_not_condemn_the_recipient():
    raw = dsn({
        "Final-Recipient": "rfc822; jane@prospect.example", "Action": "failed", "Status": "5.7.1",
        "Diagnostic-Code": "smtp; 554 5.7.1 Client host [192.0.2.1] blocked using zen.spamhaus.org",
    })  # fmt: skip
    result = classify_message(raw, our_addresses=[OURS])
    assert result.kind == MessageKind.BOUNCE
    assert result.failed_recipients == ("jane@prospect.example",)
    assert (result.infrastructure, result.permanent, result.status_code) == (True, False, "5.7.1")
    assert "spamhaus" in result.diagnostic
    assert result.original_message_id == OUR_ID


def test_a_user_unknown_in_the_same_report_condemns_the_recipient():
    raw = dsn({
        "Final-Recipient": "rfc822; jane@prospect.example", "Action": "failed", "Status": "5.1.1",
        "Diagnostic-Code": "smtp; 550 5.1.1 <jane@prospect.example>: User unknown",
    })  # fmt: skip
    result = classify_message(raw, our_addresses=[OURS])
    assert (result.infrastructure, result.permanent, result.status_code) == (False, True, "5.1.1")


def test_a_blocklist_rejection_in_a_plain_text_bounce_is_infrastructure():
    body = (
        "This message was created automatically by mail delivery software.\n\n"
        "A message that you sent could not be delivered to one or more of its recipients.\n\n"
        "  jane@prospect.example\n"
        "    host mx.prospect.example [192.0.2.7]: 550 5.7.1 Rejected: your IP is listed at bl.spamcop.net\n"
    )
    raw = mail(
        sender="Mail Delivery System <Mailer-Daemon@relay.example>", subject="Mail delivery failed", body=body
    )
    result = classify_message(raw, our_addresses=[OURS])
    assert result.kind == MessageKind.BOUNCE
    assert (result.failed_recipients, result.infrastructure, result.permanent) == (
        ("jane@prospect.example",),
        True,
        False,
    )


def test_the_envelope_sender_in_an_smtp_transcript_is_not_a_failed_recipient():
    body = (
        "A message that you sent could not be delivered to one or more of its recipients.\n\n"
        "  SMTP error from remote mail server after RCPT TO:<jane@prospect.example>:\n"
        "  >>> MAIL FROM:<bounce-7f3a@mail.linkcrm.example> SIZE=1543\n"
        "  <<< 550 5.1.1 <jane@prospect.example>... User unknown\n"
    )
    raw = mail(
        sender="Mail Delivery System <Mailer-Daemon@relay.example>", subject="Mail delivery failed", body=body
    )
    result = classify_message(raw, our_addresses=[OURS])
    assert (result.failed_recipients, result.permanent) == (("jane@prospect.example",), True)


def test_a_delayed_4xx_report_is_a_transient_bounce():
    raw = dsn(
        {
            "Final-Recipient": "rfc822; jane@prospect.example", "Action": "delayed", "Status": "4.4.1",
            "Diagnostic-Code": "smtp; 451 4.4.1 Connection timed out",
        },
        notification="Delivery to the following recipient has been delayed: jane@prospect.example",
    )  # fmt: skip
    result = classify_message(raw, our_addresses=[OURS])
    assert result.kind == MessageKind.BOUNCE
    assert (result.permanent, result.infrastructure, result.status_code) == (False, False, "4.4.1")
    assert result.bounced[0].delayed
    assert "delayed" in result.reason


def test_a_4xx_failure_after_retries_is_still_transient():
    raw = dsn({"Final-Recipient": "rfc822; jane@prospect.example", "Action": "failed", "Status": "4.4.7"})
    result = classify_message(raw, our_addresses=[OURS])
    assert (result.kind, result.permanent, result.status_code) == (MessageKind.BOUNCE, False, "4.4.7")


def test_a_report_of_successful_delivery_is_not_a_bounce_nor_a_reply():
    raw = dsn({"Final-Recipient": "rfc822; jane@prospect.example", "Action": "delivered", "Status": "2.0.0"})
    result = classify_message(raw, our_addresses=[OURS])
    assert result.kind == MessageKind.UNKNOWN
    assert not result.malformed
    assert "Action: delivered" in result.reason


def test_only_the_failed_recipients_of_a_mixed_report_are_listed():
    raw = dsn(
        {"Final-Recipient": "rfc822; ok@prospect.example", "Action": "delivered", "Status": "2.0.0"},
        {"Final-Recipient": "rfc822; gone@prospect.example", "Action": "failed", "Status": "5.1.1"},
    )
    assert classify_message(raw).failed_recipients == ("gone@prospect.example",)


def test_an_arf_complaint_names_the_recipient_and_our_message():
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "feedback@isp.example", OURS, "Abuse report"
    msg.set_content("This is an email abuse report.")
    msg.make_mixed()
    msg.set_type("multipart/report")
    msg.set_param("report-type", "feedback-report")
    report, fields = EmailMessage(), EmailMessage()
    report["Content-Type"] = "message/feedback-report"
    fields["Feedback-Type"], fields["Original-Rcpt-To"] = "abuse", "<Jane@Prospect.example>"
    report.set_payload([fields])
    msg.attach(report)
    returned = EmailMessage()
    returned["From"], returned["To"], returned["Message-ID"] = OURS, "someone@else.example", OUR_ID
    returned.set_content("Hi Jane")
    wrapper = EmailMessage()
    wrapper.set_content(returned)
    msg.attach(wrapper)
    result = classify_message(msg.as_bytes(), our_addresses=[OURS])
    assert result.kind == MessageKind.COMPLAINT
    assert (result.complained_recipient, result.original_message_id) == ("jane@prospect.example", OUR_ID)


def test_a_person_forwarding_a_bounce_is_a_reply():
    body = "Did this reach you?\n\nYour message could not be delivered to one or more recipients."
    raw = mail(subject="Fwd: Undelivered Mail Returned to Sender", body=body)
    assert classify_message(raw).kind == MessageKind.REPLY


def test_an_x_failed_recipients_header_makes_a_bounce():
    raw = mail(
        sender="postmaster@relay.example", subject="Returned", body="550 5.1.1 no such user",
        headers={"X-Failed-Recipients": "jane@prospect.example"},
    )  # fmt: skip
    result = classify_message(raw)
    assert (result.kind, result.failed_recipients, result.permanent) == (
        MessageKind.BOUNCE, ("jane@prospect.example",), True,
    )  # fmt: skip


def test_references_are_parsed_in_order():
    raw = mail(
        headers={"References": "<a@x.example> <b@x.example>  <a@x.example>", "In-Reply-To": "<b@x.example>"}
    )
    result = classify_message(raw)
    assert (result.references, result.in_reply_to) == (("<a@x.example>", "<b@x.example>"), ("<b@x.example>",))


# --- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty message"),
        (b"   \r\n", "empty message"),
        (b"\x00\xff\xfe\x89PNG garbage", "not an email message"),
        (b"Domain ascore,Domain,Backlinks\n12,example.com,3\n", "not an email message"),
    ],
)
def test_what_is_not_an_email_is_unknown_and_malformed(raw, reason):
    result = classify_message(raw)
    assert (result.kind, result.malformed) == (MessageKind.UNKNOWN, True)
    assert result.reason.startswith(reason)


def test_headers_the_modern_parser_chokes_on_are_read_raw():
    # "To: a@" and "Message-ID: <[>" raise inside email.policy.default in Python 3.11.
    raw = (
        b"From: Mail Delivery System <MAILER-DAEMON@relay.example>\r\nTo: a@\r\nMessage-ID: <[>\r\n"
        b"Subject: failure notice\r\n\r\n"
        b"Sorry, we were unable to deliver your message to the following address.\r\n\r\n"
        b"<jane@prospect.example>:\r\nRemote host said: 550 5.1.1 User unknown\r\n"
    )
    result = classify_message(raw)
    assert result.kind == MessageKind.BOUNCE
    assert (result.failed_recipients, result.permanent) == (("jane@prospect.example",), True)


def test_broken_mime_and_encodings_do_not_crash():
    raw = (
        b"From: =?utf-8?q?J=C3=A4ne?= <jane@prospect.example>\r\nTo: outreach@linkcrm.example\r\n"
        b"Subject: =?x-bogus?q?Re=3A_hi?= \xff\xfe\r\nContent-Type: multipart/report\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n%%%not base64%%%\r\n"
    )
    result = classify_message(raw)
    assert result.kind == MessageKind.REPLY
    assert not result.malformed
    assert result.from_address == "jane@prospect.example"


@pytest.mark.parametrize("charset", [b"x-no-such-charset", b'"utf\x00-8"'])
def test_a_text_part_in_an_unknown_or_garbled_charset_is_still_read(charset):
    raw = (
        b"From: Mailer-Daemon@relay.example\r\nTo: outreach@linkcrm.example\r\nSubject: failure notice\r\n"
        b"Content-Type: text/plain; charset=" + charset + b"\r\n\r\n"
        b"Sorry, we were unable to deliver your message to the following address.\r\n\r\n"
        b"<jane@prospect.example>:\r\n550 5.1.1 User unknown\r\n"
    )
    assert classify_message(raw).failed_recipients == ("jane@prospect.example",)


def test_a_text_part_without_a_charset_is_read_as_utf8():
    raw = (
        b"From: Jane <jane@prospect.example>\r\nTo: outreach@linkcrm.example\r\nSubject: Abwesend\r\n"
        b"Content-Type: text/plain\r\n\r\nIch bin bis zum 3. M\xc3\xa4rz nicht im B\xc3\xbcro.\r\n"
    )
    assert readable_text(parse_message(raw)).strip() == "Ich bin bis zum 3. März nicht im Büro."
