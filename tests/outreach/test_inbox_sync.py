"""Reply sync against the real Dovecot sandbox: mail appended over IMAP, then mailbox_sync."""

from __future__ import annotations

import datetime as dt
import secrets
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from outreach.choices import EnrollmentStatus, MailboxStatus, MatchMethod, MessageKind, OutboxStatus, StopReason
from outreach.models import InboundMessage, MailboxFolder
from outreach.services.inbox import mailbox_sync
from prospects.choices import EmailStatus, Stage
from prospects.models import Suppression
from prospects.services.suppression import suppression_match
from tests.outreach.inbox_world import Thread, append, folder_flags, imap_session, reply_to, start_thread
from tests.outreach.world import make_project, sandbox_mailbox

pytestmark = [pytest.mark.django_db, pytest.mark.mail]


@pytest.fixture
def thread(stack, alice) -> Thread:
    mailbox = sandbox_mailbox(stack, alice, timezone="Europe/Berlin")
    return start_thread(mailbox, make_project("Tools", alice), "example.org", by=alice)


def _refreshed(thread: Thread) -> Thread:
    for item in (thread.enrollment, thread.prospect, thread.contact, thread.sent, thread.follow_up):
        item.refresh_from_db()
    return thread


def _dsn(thread: Thread, *, status: str = "5.1.1", action: str = "failed", diagnostic: str = "550 5.1.1 User unknown",
         quote_message_id: bool = True) -> bytes:  # fmt: skip
    """A synthetic RFC 3464 report about our first message (its headers quoted back)."""
    quoted = f"Message-ID: {thread.sent.message_id}\r\n" if quote_message_id else ""
    return f"""From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r
To: {thread.mailbox.email}\r
Subject: Undelivered Mail Returned to Sender\r
Date: Sat, 21 Nov 2026 10:00:00 +0000\r
Message-ID: <{secrets.token_hex(8)}@mx.example.org>\r
Auto-Submitted: auto-replied\r
MIME-Version: 1.0\r
Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r
\r
--B\r
Content-Type: text/plain\r
\r
Your message could not be delivered.\r
--B\r
Content-Type: message/delivery-status\r
\r
Reporting-MTA: dns; mx.example.org\r
\r
Final-Recipient: rfc822; {thread.contact.email}\r
Action: {action}\r
Status: {status}\r
Diagnostic-Code: smtp; {diagnostic}\r
--B\r
Content-Type: text/rfc822-headers\r
\r
From: {thread.mailbox.email}\r
To: {thread.contact.email}\r
Subject: {thread.sent.subject}\r
{quoted}X-LinkCRM-Thread: {thread.enrollment.thread_token}\r
--B--\r
""".encode()


def test_a_reply_moves_the_prospect_and_cancels_the_follow_up(stack, thread):
    append(stack, thread.mailbox.email, reply_to(thread.sent))

    result = mailbox_sync(thread.mailbox.pk)

    assert (result.fetched, result.stored, result.error) == (1, 1, "")
    inbound = InboundMessage.objects.get(mailbox=thread.mailbox)
    assert (inbound.kind, inbound.match_method) == (MessageKind.REPLY, MatchMethod.IN_REPLY_TO)
    assert inbound.match_detail == f"In-Reply-To {thread.sent.message_id}"
    assert (inbound.matched_message, inbound.enrollment, inbound.prospect) == (
        thread.sent, thread.enrollment, thread.prospect)
    assert inbound.needs_attention
    _refreshed(thread)
    assert thread.prospect.stage == Stage.REPLY_RECEIVED
    assert (thread.enrollment.status, thread.enrollment.stop_reason) == (EnrollmentStatus.STOPPED, StopReason.REPLIED)
    assert thread.enrollment.replied_at is not None
    assert thread.follow_up.status == OutboxStatus.CANCELLED


@pytest.mark.parametrize("stop_domain", [True, False])
def test_a_reply_stops_the_domains_other_enrollments_by_the_setting(stack, alice, thread, settings, stop_domain):
    settings.LINKCRM_STOP_DOMAIN_ON_REPLY = stop_domain
    other = start_thread(thread.mailbox, make_project("Other", alice), "example.org", by=alice)
    append(stack, thread.mailbox.email, reply_to(thread.sent))

    mailbox_sync(thread.mailbox.pk)

    _refreshed(other)
    if stop_domain:
        assert (other.enrollment.status, other.enrollment.stop_reason) == (
            EnrollmentStatus.STOPPED, StopReason.DOMAIN_REPLIED)
        assert other.follow_up.status == OutboxStatus.CANCELLED
    else:
        assert other.enrollment.status == EnrollmentStatus.ACTIVE
        assert other.follow_up.status == OutboxStatus.QUEUED
    assert other.prospect.stage == Stage.TO_CONTACT  # nobody at the other project answered


def test_a_real_dsn_bounces_the_contact_and_flags_the_prospect(stack, thread, samples_dir):
    raw = (samples_dir / "emails" / "bounces" / "rfc3464-01.eml").read_bytes()
    raw = raw.replace(b"userunknown@bouncehammer.jp", thread.contact.email.encode())
    raw = raw.replace(b"<E1C50F1B-1C83-4820-BC36-AC6FBFBE8568@example.org>", thread.sent.message_id.encode())
    raw = raw.replace(b"kijitora@example.org", thread.mailbox.email.encode())
    append(stack, thread.mailbox.email, raw)

    mailbox_sync(thread.mailbox.pk)

    inbound = InboundMessage.objects.get(mailbox=thread.mailbox)
    assert (inbound.kind, inbound.permanent, inbound.failed_recipient) == (
        MessageKind.BOUNCE, True, thread.contact.email)
    assert (inbound.match_method, inbound.matched_message) == (MatchMethod.ORIGINAL, thread.sent)
    assert not inbound.needs_attention
    _refreshed(thread)
    assert thread.contact.email_status == EmailStatus.BOUNCED
    assert thread.prospect.flagged and "hard bounce" in thread.prospect.flag_reason
    assert (thread.enrollment.status, thread.enrollment.stop_reason) == (EnrollmentStatus.STOPPED, StopReason.BOUNCED)
    assert thread.follow_up.status == OutboxStatus.CANCELLED
    assert suppression_match(project=thread.prospect.project, email=thread.contact.email) is not None


def test_a_bounce_quoting_only_the_thread_token_is_matched_by_it(stack, thread):
    append(stack, thread.mailbox.email, _dsn(thread, quote_message_id=False))

    mailbox_sync(thread.mailbox.pk)

    inbound = InboundMessage.objects.get(mailbox=thread.mailbox)
    assert (inbound.match_method, inbound.enrollment) == (MatchMethod.TOKEN, thread.enrollment)
    assert inbound.match_detail == f"thread token {thread.enrollment.thread_token}"
    assert _refreshed(thread).contact.email_status == EmailStatus.BOUNCED


@pytest.mark.parametrize(("status", "action", "diagnostic"), [
    ("4.2.2", "delayed", "452 4.2.2 Mailbox full"),
    ("5.7.1", "failed", "554 5.7.1 Service unavailable; client host blocked using zen.spamhaus.org"),
])  # fmt: skip
def test_transient_and_infrastructure_bounces_are_only_recorded(stack, thread, status, action, diagnostic):
    append(stack, thread.mailbox.email, _dsn(thread, status=status, action=action, diagnostic=diagnostic))

    mailbox_sync(thread.mailbox.pk)

    inbound = InboundMessage.objects.get(mailbox=thread.mailbox)
    assert (inbound.kind, inbound.permanent, inbound.enrollment) == (MessageKind.BOUNCE, False, thread.enrollment)
    _refreshed(thread)
    assert thread.contact.email_status != EmailStatus.BOUNCED
    assert not thread.prospect.flagged
    assert thread.enrollment.status == EnrollmentStatus.ACTIVE
    assert thread.follow_up.status == OutboxStatus.QUEUED


def test_an_out_of_office_with_a_return_date_pauses_until_that_morning(stack, thread):
    back = timezone.now().date() + dt.timedelta(days=20)
    raw = reply_to(thread.sent, f"I am out of the office until {back:%d %B %Y} with limited access to email.\n",
                   Auto_Submitted="auto-replied", Subject="Out of office")  # fmt: skip
    append(stack, thread.mailbox.email, raw)

    mailbox_sync(thread.mailbox.pk)

    inbound = InboundMessage.objects.get(mailbox=thread.mailbox)
    assert (inbound.kind, inbound.return_date) == (MessageKind.AUTO_REPLY, back)
    assert not inbound.needs_attention
    _refreshed(thread)
    assert thread.enrollment.status == EnrollmentStatus.PAUSED
    assert thread.enrollment.paused_until == dt.datetime.combine(back, dt.time.min, tzinfo=ZoneInfo("Europe/Berlin"))
    assert thread.prospect.stage == Stage.TO_CONTACT  # an auto-reply is no reply


def test_an_auto_reply_without_a_return_date_is_only_recorded(stack, thread):
    raw = reply_to(thread.sent, "Thank you for your message. We will get back to you.\n", Auto_Submitted="auto-replied")
    append(stack, thread.mailbox.email, raw)

    mailbox_sync(thread.mailbox.pk)

    inbound = InboundMessage.objects.get(mailbox=thread.mailbox)
    assert (inbound.kind, inbound.return_date, inbound.enrollment) == (MessageKind.AUTO_REPLY, None, thread.enrollment)
    _refreshed(thread)
    assert (thread.enrollment.status, thread.prospect.stage) == (EnrollmentStatus.ACTIVE, Stage.TO_CONTACT)


def test_a_complaint_puts_the_address_on_do_not_contact(stack, thread, samples_dir):
    raw = (samples_dir / "emails" / "complaints" / "arf-01.eml").read_bytes()
    original = _arf_recipient(raw)
    raw = raw.replace(original.encode(), thread.contact.email.encode())
    append(stack, thread.mailbox.email, raw)

    mailbox_sync(thread.mailbox.pk)

    inbound = InboundMessage.objects.get(mailbox=thread.mailbox)
    assert inbound.kind == MessageKind.COMPLAINT
    assert inbound.enrollment == thread.enrollment
    blocked = suppression_match(project=None, email=thread.contact.email)
    assert blocked is not None and blocked.project_id is None  # a complaint is global
    _refreshed(thread)
    assert (thread.enrollment.status, thread.enrollment.stop_reason) == (
        EnrollmentStatus.STOPPED, StopReason.COMPLAINED)
    assert thread.prospect.stage == Stage.TO_CONTACT


def _arf_recipient(raw: bytes) -> str:
    from outreach.classify import classify_message

    verdict = classify_message(raw)
    assert verdict.kind == MessageKind.COMPLAINT and verdict.complained_recipient
    return verdict.complained_recipient


def test_our_own_messages_in_sent_or_inbox_never_count_as_replies(stack, thread):
    thread.mailbox.watch_folders = ["INBOX", "Sent"]
    thread.mailbox.save(update_fields=["watch_folders"])
    copy = EmailMessage()
    copy["From"] = thread.mailbox.email
    copy["To"] = thread.contact.email
    copy["Subject"] = thread.sent.subject
    copy["Message-ID"] = thread.sent.message_id
    copy["Date"] = "Sat, 21 Nov 2026 10:00:00 +0000"
    copy.set_content(thread.sent.text)
    echo = reply_to(thread.sent, "Forwarded to the team.\n", From=f"Sam <{thread.mailbox.email}>")
    append(stack, thread.mailbox.email, bytes(copy), folder="Sent")
    append(stack, thread.mailbox.email, echo, bytes(copy))

    result = mailbox_sync(thread.mailbox.pk)

    assert result.fetched == 3
    kinds = set(InboundMessage.objects.filter(mailbox=thread.mailbox).values_list("kind", flat=True))
    assert kinds == {MessageKind.OWN}
    assert InboundMessage.objects.filter(mailbox=thread.mailbox).count() == 2  # the copy is stored once
    _refreshed(thread)
    assert (thread.enrollment.status, thread.prospect.stage) == (EnrollmentStatus.ACTIVE, Stage.TO_CONTACT)


def test_sync_changes_no_flags(stack, thread):
    append(stack, thread.mailbox.email, reply_to(thread.sent), _dsn(thread))
    with imap_session(stack, thread.mailbox.email) as client:
        client.select_folder("INBOX")
        client.add_flags([2], [b"\\Flagged"])
    before = folder_flags(stack, thread.mailbox.email)

    mailbox_sync(thread.mailbox.pk)

    after = folder_flags(stack, thread.mailbox.email)
    assert after == before
    assert all(b"\\Seen" not in flags for flags in after.values())


def test_a_second_sync_fetches_only_new_mail(stack, thread):
    append(stack, thread.mailbox.email, reply_to(thread.sent))
    mailbox_sync(thread.mailbox.pk)

    again = mailbox_sync(thread.mailbox.pk)
    assert (again.fetched, again.stored) == (0, 0)

    append(stack, thread.mailbox.email, _dsn(thread))
    third = mailbox_sync(thread.mailbox.pk)
    assert (third.fetched, third.stored) == (1, 1)
    state = MailboxFolder.objects.get(mailbox=thread.mailbox, name="INBOX")
    assert state.last_uid == 2 and state.uidvalidity and state.last_synced_at


def test_a_uidvalidity_change_processes_nothing_twice(stack, alice, thread, settings):
    settings.LINKCRM_STOP_DOMAIN_ON_REPLY = False
    thread.mailbox.watch_folders = ["Replies"]
    thread.mailbox.save(update_fields=["watch_folders"])
    messages = [reply_to(thread.sent), _dsn(thread)]
    append(stack, thread.mailbox.email, *messages, folder="Replies")
    first = mailbox_sync(thread.mailbox.pk)
    old = MailboxFolder.objects.get(mailbox=thread.mailbox, name="Replies").uidvalidity
    # Someone resumes the thread by hand; a replayed reply must not stop it again.
    thread.enrollment.status = EnrollmentStatus.ACTIVE
    thread.enrollment.save(update_fields=["status"])
    with imap_session(stack, thread.mailbox.email) as client:
        client.delete_folder("Replies")
        client.create_folder("Replies")
    append(stack, thread.mailbox.email, *messages, folder="Replies")

    second = mailbox_sync(thread.mailbox.pk)

    assert first.stored == 2
    assert MailboxFolder.objects.get(mailbox=thread.mailbox, name="Replies").uidvalidity != old
    assert second.folders[0].resynced and (second.fetched, second.stored) == (2, 0)
    assert InboundMessage.objects.filter(mailbox=thread.mailbox).count() == 2
    assert thread.enrollment.__class__.objects.get(pk=thread.enrollment.pk).status == EnrollmentStatus.ACTIVE


def test_a_malformed_message_is_stored_as_unknown_and_the_sync_goes_on(stack, thread):
    garbage = b"\x00\x01 this is not mail at all \xff\xfe\r\n\r\n\x00"
    append(stack, thread.mailbox.email, garbage, reply_to(thread.sent))

    result = mailbox_sync(thread.mailbox.pk, batch_size=1)

    assert (result.fetched, result.stored, result.error) == (2, 2, "")
    kinds = dict(InboundMessage.objects.filter(mailbox=thread.mailbox).values_list("uid", "kind"))
    assert kinds == {1: MessageKind.UNKNOWN, 2: MessageKind.REPLY}
    assert InboundMessage.objects.get(uid=1, mailbox=thread.mailbox).dedupe_key.startswith("sha256:")
    assert _refreshed(thread).prospect.stage == Stage.REPLY_RECEIVED


def test_a_reply_without_thread_headers_is_matched_by_its_sender(stack, thread):
    append(stack, thread.mailbox.email, reply_to(thread.sent, "Hi, got your note.\n", threaded="no"))

    mailbox_sync(thread.mailbox.pk)

    inbound = InboundMessage.objects.get(mailbox=thread.mailbox)
    assert (inbound.match_method, inbound.enrollment) == (MatchMethod.SENDER, thread.enrollment)
    assert inbound.match_detail == f"sender {thread.contact.email} has a running enrollment"
    assert _refreshed(thread).prospect.stage == Stage.REPLY_RECEIVED


def test_mail_a_contact_sent_before_we_enrolled_them_is_no_reply(stack, thread):
    long_ago = timezone.now() - dt.timedelta(days=200)
    append(stack, thread.mailbox.email, reply_to(thread.sent, "About last year's post.\n", threaded="no"),
           arrived=long_ago)  # fmt: skip

    mailbox_sync(thread.mailbox.pk)

    inbound = InboundMessage.objects.get(mailbox=thread.mailbox)
    assert (inbound.kind, inbound.match_method, inbound.needs_attention) == (MessageKind.REPLY, MatchMethod.NONE, False)
    _refreshed(thread)
    assert (thread.enrollment.status, thread.prospect.stage) == (EnrollmentStatus.ACTIVE, Stage.TO_CONTACT)


def test_unrelated_mail_is_stored_unmatched_and_needs_no_attention(stack, thread):
    stranger = EmailMessage()
    stranger["From"] = "someone@elsewhere.test"
    stranger["To"] = thread.mailbox.email
    stranger["Subject"] = "Lunch?"
    stranger["Message-ID"] = "<lunch-1@elsewhere.test>"
    stranger.set_content("Are you free on Friday?\n")
    append(stack, thread.mailbox.email, bytes(stranger))

    mailbox_sync(thread.mailbox.pk)

    inbound = InboundMessage.objects.get(mailbox=thread.mailbox)
    assert (inbound.kind, inbound.match_method, inbound.needs_attention) == (MessageKind.REPLY, MatchMethod.NONE, False)
    assert _refreshed(thread).enrollment.status == EnrollmentStatus.ACTIVE


def test_a_refused_login_pauses_the_mailbox_instead_of_failing(stack, thread):
    thread.mailbox.set_imap_password("wrong")
    thread.mailbox.save(update_fields=["imap_password"])

    result = mailbox_sync(thread.mailbox.pk)

    assert result.paused and result.fetched == 0
    thread.mailbox.refresh_from_db()
    assert thread.mailbox.status == MailboxStatus.PAUSED
    assert "IMAP login refused" in thread.mailbox.paused_reason
    assert "wrong" not in thread.mailbox.paused_reason
    assert mailbox_sync(thread.mailbox.pk).skipped  # bad credentials are not tried again and again


def test_a_mailbox_a_person_paused_still_reads_replies(stack, thread):
    thread.mailbox.status = MailboxStatus.PAUSED
    thread.mailbox.paused_reason = "holidays"
    thread.mailbox.save(update_fields=["status", "paused_reason"])
    append(stack, thread.mailbox.email, reply_to(thread.sent))

    result = mailbox_sync(thread.mailbox.pk)

    # Pausing stops sending: the reply must still stop the follow-up before a resume sends it.
    assert (result.skipped, result.stored) == ("", 1)
    assert _refreshed(thread).follow_up.status == OutboxStatus.CANCELLED


def test_older_objects_are_frozen_for_the_collector_only_while_the_sync_runs(stack, thread, monkeypatch):
    import gc

    from outreach.services import inbox

    seen = []
    real_store = inbox._store_batch
    monkeypatch.setattr(inbox, "_store_batch", lambda *args: seen.append(gc.get_freeze_count()) or real_store(*args))
    append(stack, thread.mailbox.email, reply_to(thread.sent))
    before = gc.get_freeze_count()

    mailbox_sync(thread.mailbox.pk)

    assert seen and seen[0] > before  # the objects that existed before the sync were parked
    assert gc.get_freeze_count() == before


def test_a_missing_folder_is_reported_and_the_others_still_sync(stack, thread):
    thread.mailbox.watch_folders = ["Nope", "INBOX"]
    thread.mailbox.save(update_fields=["watch_folders"])
    append(stack, thread.mailbox.email, reply_to(thread.sent))

    result = mailbox_sync(thread.mailbox.pk)

    assert [f.folder for f in result.folders] == ["Nope", "INBOX"]
    assert result.folders[0].error and result.folders[1].stored == 1
    assert MailboxFolder.objects.get(mailbox=thread.mailbox, name="Nope").last_error


class Crash(BaseException):
    """A worker killed mid-batch (not an Exception: nothing in the syncer may swallow it)."""


def test_a_crash_mid_sync_loses_nothing_and_applies_nothing_twice(stack, alice, thread, monkeypatch, settings):
    from outreach.services import inbox

    settings.LINKCRM_STOP_DOMAIN_ON_REPLY = False
    second = start_thread(thread.mailbox, make_project("Second", alice), "example.net", by=alice)
    append(stack, thread.mailbox.email, reply_to(thread.sent), reply_to(second.sent))
    real_on_replies = inbox.automation.on_replies

    def crash_on_second(replies):
        if any(reply.enrollment == second.enrollment for reply in replies):
            raise Crash
        real_on_replies(replies)

    monkeypatch.setattr(inbox.automation, "on_replies", crash_on_second)
    with pytest.raises(Crash):
        mailbox_sync(thread.mailbox.pk, batch_size=1)

    assert list(InboundMessage.objects.filter(mailbox=thread.mailbox).values_list("uid", flat=True)) == [1]
    assert MailboxFolder.objects.get(mailbox=thread.mailbox, name="INBOX").last_uid == 1
    assert _refreshed(second).enrollment.status == EnrollmentStatus.ACTIVE

    monkeypatch.setattr(inbox.automation, "on_replies", real_on_replies)
    result = mailbox_sync(thread.mailbox.pk, batch_size=1)

    assert (result.fetched, result.stored) == (1, 1)
    assert _refreshed(second).prospect.stage == Stage.REPLY_RECEIVED
    for prospect in (thread.prospect, second.prospect):
        assert prospect.stage_changes.filter(automation="email.reply").count() == 1


def test_a_failing_consequence_is_recorded_for_a_person_and_the_sync_goes_on(stack, thread, monkeypatch):
    from outreach.services import inbox

    def broken(replies):
        raise RuntimeError("prospects service down")

    monkeypatch.setattr(inbox.automation, "on_replies", broken)
    append(stack, thread.mailbox.email, reply_to(thread.sent), _dsn(thread))

    result = mailbox_sync(thread.mailbox.pk)

    assert (result.fetched, result.stored) == (2, 2)
    reply = InboundMessage.objects.get(mailbox=thread.mailbox, kind=MessageKind.REPLY)
    assert reply.needs_attention and reply.kind_reason.startswith("automation failed (RuntimeError)")
    assert _refreshed(thread).contact.email_status == EmailStatus.BOUNCED  # the next message was applied
    assert MailboxFolder.objects.get(mailbox=thread.mailbox, name="INBOX").last_uid == 2


def test_replies_failing_together_are_applied_one_by_one(stack, alice, thread, monkeypatch, settings):
    from outreach.services import inbox

    settings.LINKCRM_STOP_DOMAIN_ON_REPLY = False
    second = start_thread(thread.mailbox, make_project("Second", alice), "example.net", by=alice)
    real_on_replies = inbox.automation.on_replies
    calls = []

    def fails_for_the_first_thread(replies):
        calls.append(len(replies))
        if any(reply.enrollment == thread.enrollment for reply in replies):
            raise RuntimeError("prospects service down")
        real_on_replies(replies)

    monkeypatch.setattr(inbox.automation, "on_replies", fails_for_the_first_thread)
    append(stack, thread.mailbox.email, reply_to(thread.sent), reply_to(second.sent))

    result = mailbox_sync(thread.mailbox.pk)

    assert (result.stored, calls) == (2, [2, 1, 1])  # together once, then alone
    failed = InboundMessage.objects.get(mailbox=thread.mailbox, enrollment=thread.enrollment)
    assert failed.needs_attention and failed.kind_reason.startswith("automation failed (RuntimeError)")
    assert _refreshed(thread).prospect.stage == Stage.TO_CONTACT
    assert _refreshed(second).prospect.stage == Stage.REPLY_RECEIVED
    assert second.enrollment.stop_reason == StopReason.REPLIED


@pytest.mark.parametrize(("folder", "name", "kind"), [
    ("human-replies", "gmail.eml", MessageKind.REPLY),
    ("human-replies", "outlook.eml", MessageKind.REPLY),
    ("auto-replies", "rfc3834-01.eml", MessageKind.AUTO_REPLY),
    ("bounces", "lhost-postfix-01.eml", MessageKind.BOUNCE),
    ("bounces", "lhost-gmail-01.eml", MessageKind.BOUNCE),
    ("complaints", "arf-01.eml", MessageKind.COMPLAINT),
])  # fmt: skip
def test_real_sample_emails_are_classified_when_synced(stack, alice, samples_dir, folder, name, kind):
    mailbox = sandbox_mailbox(stack, alice)
    append(stack, mailbox.email, (samples_dir / "emails" / folder / name).read_bytes())

    result = mailbox_sync(mailbox.pk)

    assert (result.stored, result.error) == (1, "")
    inbound = InboundMessage.objects.get(mailbox=mailbox)
    assert (inbound.kind, inbound.match_method, inbound.needs_attention) == (kind, MatchMethod.NONE, False)
    assert inbound.subject and inbound.raw_size > 0
    # Not about mail of ours: a bounce or complaint puts nobody on do-not-contact.
    assert not Suppression.objects.exists()


def test_every_sample_email_is_classified_by_its_folder_when_synced(stack, alice, samples_dir):
    expected = {"human-replies": MessageKind.REPLY, "auto-replies": MessageKind.AUTO_REPLY,
                "bounces": MessageKind.BOUNCE, "complaints": MessageKind.COMPLAINT}  # fmt: skip
    files = sorted(p for folder in expected for p in (samples_dir / "emails" / folder).glob("*.eml"))
    mailbox = sandbox_mailbox(stack, alice)
    append(stack, mailbox.email, *(p.read_bytes() for p in files))

    result = mailbox_sync(mailbox.pk, batch_size=7)

    assert (result.fetched, result.error) == (len(files), "")
    # Keyed like the inbox: two samples share a Message-ID with another and are stored once;
    # messages without one are keyed by a hash of the bytes the server returns (CRLF lines).
    wanted = {_message_id(p) or p.name: expected[p.parent.name] for p in files}
    stored = dict(InboundMessage.objects.filter(mailbox=mailbox).values_list("dedupe_key", "kind"))
    assert {k: v for k, v in stored.items() if not k.startswith("sha256:")} == {
        k: v for k, v in wanted.items() if k.startswith("<")}
    assert sorted(v for k, v in stored.items() if k.startswith("sha256:")) == sorted(
        v for k, v in wanted.items() if not k.startswith("<"))


def _message_id(path: Path) -> str | None:
    from outreach.classify import classify_message

    return classify_message(path.read_bytes()).message_id
