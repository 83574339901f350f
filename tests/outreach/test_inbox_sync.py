"""Reply sync against the real Dovecot sandbox: mail appended over IMAP, then mailbox_sync."""

from __future__ import annotations

import datetime as dt
import secrets
from email import message_from_bytes
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from linkcrm.localstack.config import StackConfig
from outreach.choices import EnrollmentStatus, MailboxStatus, MatchMethod, MessageKind, OutboxStatus, StopReason
from outreach.models import InboundMessage, MailboxFolder
from outreach.services.inbox import SyncResult, mailbox_sync
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


def _assert_nothing_kept_or_moved(thread: Thread) -> None:
    """No message of the mailbox was stored and the thread is as it was: enrollment running, follow-up queued."""
    assert not InboundMessage.objects.filter(mailbox=thread.mailbox).exists()
    _refreshed(thread)
    assert (thread.enrollment.status, thread.prospect.stage) == (EnrollmentStatus.ACTIVE, Stage.TO_CONTACT)
    assert thread.follow_up.status == OutboxStatus.QUEUED


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

    # Our copy in Sent and our echo and copy in INBOX are read, are no answer to us and are not kept.
    assert (result.fetched, result.stored, result.unrelated, result.error) == (3, 0, 3, "")
    assert {f.folder: f.unrelated for f in result.folders} == {"INBOX": 2, "Sent": 1}
    _assert_nothing_kept_or_moved(thread)
    assert mailbox_sync(thread.mailbox.pk).fetched == 0  # both folders were read past them


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


def _synced_then_renumbered(stack: StackConfig, thread: Thread, messages: list[bytes]) -> tuple[SyncResult, int | None]:
    """Sync ``messages`` in a "Replies" folder, then file them again in a new folder of that name.

    Returns the first sync's result and the folder's UIDVALIDITY then. Between the two, someone
    resumes the thread by hand: a replayed reply must not stop it again.
    """
    thread.mailbox.watch_folders = ["Replies"]
    thread.mailbox.save(update_fields=["watch_folders"])
    append(stack, thread.mailbox.email, *messages, folder="Replies")
    first = mailbox_sync(thread.mailbox.pk)
    old = MailboxFolder.objects.get(mailbox=thread.mailbox, name="Replies").uidvalidity
    thread.enrollment.status = EnrollmentStatus.ACTIVE
    thread.enrollment.save(update_fields=["status"])
    with imap_session(stack, thread.mailbox.email) as client:
        client.delete_folder("Replies")
        client.create_folder("Replies")
    append(stack, thread.mailbox.email, *messages, folder="Replies")
    return first, old


def test_a_uidvalidity_change_processes_nothing_twice(stack, alice, thread, settings):
    settings.LINKCRM_STOP_DOMAIN_ON_REPLY = False
    first, old = _synced_then_renumbered(stack, thread, [reply_to(thread.sent), _dsn(thread)])

    second = mailbox_sync(thread.mailbox.pk)

    assert first.stored == 2
    assert MailboxFolder.objects.get(mailbox=thread.mailbox, name="Replies").uidvalidity != old
    assert second.folders[0].resynced and (second.fetched, second.stored) == (2, 0)
    assert InboundMessage.objects.filter(mailbox=thread.mailbox).count() == 2
    assert thread.enrollment.__class__.objects.get(pk=thread.enrollment.pk).status == EnrollmentStatus.ACTIVE


def test_a_malformed_message_is_stored_as_unknown_and_the_sync_goes_on(stack, thread):
    garbage = b"\x00\x01 this is not mail at all \xff\xfe\r\n\r\n\x00"
    # Just as broken, but naming our message: it is about our thread and is kept.
    ours = b"\x00\x01 not mail either \xff\xfe\r\nIn-Reply-To: " + thread.sent.message_id.encode() + b"\r\n\r\n\x00"
    append(stack, thread.mailbox.email, garbage, ours, reply_to(thread.sent))

    result = mailbox_sync(thread.mailbox.pk, batch_size=1)

    assert (result.fetched, result.stored, result.unrelated, result.error) == (3, 2, 1, "")
    kinds = dict(InboundMessage.objects.filter(mailbox=thread.mailbox).values_list("uid", "kind"))
    assert kinds == {2: MessageKind.UNKNOWN, 3: MessageKind.REPLY}
    broken = InboundMessage.objects.get(uid=2, mailbox=thread.mailbox)
    assert (broken.enrollment, broken.needs_attention) == (thread.enrollment, False)
    assert broken.match_method != MatchMethod.NONE
    assert broken.dedupe_key.startswith("sha256:")  # no Message-ID: keyed by a hash of its bytes
    assert _refreshed(thread).prospect.stage == Stage.REPLY_RECEIVED
    assert MailboxFolder.objects.get(mailbox=thread.mailbox, name="INBOX").last_uid == 3


def test_a_reply_is_tied_by_our_message_id_only_under_our_mailboxes_domains(stack, thread):
    # The mailbox's address moved to another domain after our first message went out: our
    # Message-IDs are looked up under our mailboxes' domains only, so the reply's In-Reply-To
    # is not found; the thread token inside it still ties the reply to its thread.
    moved = thread.mailbox.email.replace("@", "@moved-")
    type(thread.mailbox).objects.filter(pk=thread.mailbox.pk).update(email=moved)
    append(stack, thread.mailbox.email, reply_to(thread.sent, "Happy to look.\n"))

    mailbox_sync(thread.mailbox.pk)

    inbound = InboundMessage.objects.get(mailbox=thread.mailbox)
    assert (inbound.match_method, inbound.enrollment, inbound.matched_message_id) == (
        MatchMethod.TOKEN, thread.enrollment, None)
    assert _refreshed(thread).prospect.stage == Stage.REPLY_RECEIVED


def test_a_reply_to_our_message_is_tied_by_its_in_reply_to(stack, thread):
    append(stack, thread.mailbox.email, reply_to(thread.sent, "Happy to look.\n"))

    mailbox_sync(thread.mailbox.pk)

    inbound = InboundMessage.objects.get(mailbox=thread.mailbox)
    assert (inbound.match_method, inbound.enrollment, inbound.matched_message_id) == (
        MatchMethod.IN_REPLY_TO, thread.enrollment, thread.sent.pk)


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

    result = mailbox_sync(thread.mailbox.pk)

    # Not an answer to us (it came before we wrote), so not about our thread: not kept.
    assert (result.fetched, result.stored, result.unrelated) == (1, 0, 1)
    _assert_nothing_kept_or_moved(thread)


def _lunch(thread: Thread, sender: str = "someone@elsewhere.test", **headers: str) -> bytes:
    """A stranger's (or, with ``sender``, anyone's) message that names none of our mail."""
    stranger = EmailMessage()
    stranger["From"] = sender
    stranger["To"] = thread.mailbox.email
    stranger["Subject"] = "Lunch?"
    stranger["Message-ID"] = f"<lunch-{secrets.token_hex(6)}@elsewhere.test>"
    for name, value in headers.items():
        stranger[name.replace("_", "-")] = value
    stranger.set_content("Are you free on Friday?\n")
    return bytes(stranger)


def test_unrelated_mail_is_counted_and_skipped_not_stored(stack, thread):
    append(stack, thread.mailbox.email, _lunch(thread))

    result = mailbox_sync(thread.mailbox.pk)

    assert (result.folders[0].fetched, result.folders[0].unrelated, result.unrelated, result.stored) == (1, 1, 1, 0)
    _assert_nothing_kept_or_moved(thread)
    assert MailboxFolder.objects.get(mailbox=thread.mailbox, name="INBOX").last_uid == 1
    assert mailbox_sync(thread.mailbox.pk).fetched == 0  # skipped once, never read again


def test_the_result_says_how_much_mail_was_not_about_our_threads(stack, thread):
    thread.mailbox.watch_folders = ["INBOX", "Replies"]
    thread.mailbox.save(update_fields=["watch_folders"])
    append(stack, thread.mailbox.email, _lunch(thread), reply_to(thread.sent))
    append(stack, thread.mailbox.email, _lunch(thread), folder="Replies")

    result = mailbox_sync(thread.mailbox.pk)

    assert [(f.folder, f.fetched, f.stored, f.unrelated) for f in result.folders] == [
        ("INBOX", 2, 1, 1), ("Replies", 1, 0, 1)]
    assert str(result) == "3 fetched, 1 new, 2 not about our threads in INBOX, Replies"


def test_a_newsletter_from_a_contact_we_write_to_is_not_kept_and_moves_nothing(stack, thread):
    news = _lunch(thread, sender=f"Jane Doe <{thread.contact.email}>", Precedence="bulk",
                  List_Id="Example news <news.example.org>")  # fmt: skip
    append(stack, thread.mailbox.email, news)

    result = mailbox_sync(thread.mailbox.pk)

    # Its sender has a running enrollment, but list mail is no answer to our thread.
    assert (result.fetched, result.stored, result.unrelated) == (1, 0, 1)
    _assert_nothing_kept_or_moved(thread)


def test_a_resync_after_a_uidvalidity_change_keeps_no_unrelated_mail_and_nothing_twice(stack, thread, settings):
    settings.LINKCRM_STOP_DOMAIN_ON_REPLY = False
    first, _ = _synced_then_renumbered(stack, thread, [_lunch(thread), reply_to(thread.sent), _lunch(thread)])

    second = mailbox_sync(thread.mailbox.pk)

    assert (first.fetched, first.stored, first.unrelated) == (3, 1, 2)
    assert second.folders[0].resynced
    assert (second.fetched, second.stored, second.unrelated) == (3, 0, 2)
    kept = InboundMessage.objects.filter(mailbox=thread.mailbox)
    assert list(kept.values_list("kind", "enrollment")) == [(MessageKind.REPLY, thread.enrollment.pk)]
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


def test_the_collector_runs_seldom_and_on_new_objects_only_while_the_sync_runs(stack, thread, monkeypatch):
    import gc

    from outreach.services import inbox

    seen = []
    real_store = inbox._store_batch

    def store(*args):
        seen.append((gc.get_freeze_count(), gc.get_threshold()))
        return real_store(*args)

    monkeypatch.setattr(inbox, "_store_batch", store)
    append(stack, thread.mailbox.email, reply_to(thread.sent))
    before, thresholds = gc.get_freeze_count(), gc.get_threshold()

    mailbox_sync(thread.mailbox.pk)

    ((frozen, during),) = seen
    assert frozen > before  # the objects that existed before the sync were parked
    assert during == (inbox._SYNC_GC_THRESHOLD, *thresholds[1:]) and during[0] > thresholds[0]
    assert (gc.get_freeze_count(), gc.get_threshold()) == (before, thresholds)


def test_a_missing_folder_is_reported_and_the_others_still_sync(stack, thread):
    thread.mailbox.watch_folders = ["Nope", "INBOX"]
    thread.mailbox.save(update_fields=["watch_folders"])
    append(stack, thread.mailbox.email, reply_to(thread.sent))

    result = mailbox_sync(thread.mailbox.pk)

    assert [f.folder for f in result.folders] == ["Nope", "INBOX"]
    assert result.folders[0].error and result.folders[1].stored == 1
    assert MailboxFolder.objects.get(mailbox=thread.mailbox, name="Nope").last_error


def test_a_connection_lost_while_the_next_batch_is_read_keeps_what_was_stored(stack, alice, thread, monkeypatch):
    second = start_thread(thread.mailbox, make_project("More", alice), "example.com", by=alice)
    append(stack, thread.mailbox.email, reply_to(thread.sent), reply_to(second.sent))
    from outreach.services import inbox

    real_fetch_headers, real_store = inbox.fetch_headers, inbox._store_batch
    events: list[object] = []

    def dropped_on_the_second_batch(client, uids):
        events.append(list(uids))
        if len(events) == 2:
            raise OSError("connection reset by peer")
        return real_fetch_headers(client, uids)

    monkeypatch.setattr(inbox, "fetch_headers", dropped_on_the_second_batch)
    monkeypatch.setattr(inbox, "_store_batch", lambda *args: events.append("store") or real_store(*args))
    result = mailbox_sync(thread.mailbox.pk, batch_size=1)

    # The second batch's headers were asked for before the first batch was stored (in the
    # background, while it was judged); the lost connection surfaced after that store.
    assert events == [[1], [2], "store"]
    assert (result.fetched, result.stored) == (1, 1)
    assert "connection reset by peer" in result.folders[0].error
    assert MailboxFolder.objects.get(mailbox=thread.mailbox, name="INBOX").last_uid == 1
    assert _refreshed(thread).prospect.stage == Stage.REPLY_RECEIVED
    monkeypatch.setattr(inbox, "fetch_headers", real_fetch_headers)
    monkeypatch.setattr(inbox, "_store_batch", real_store)

    again = mailbox_sync(thread.mailbox.pk)  # the next sync picks up where this one stopped

    assert (again.fetched, again.stored, again.error) == (1, 1, "")
    assert _refreshed(second).prospect.stage == Stage.REPLY_RECEIVED


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


def _about(thread: Thread, raw: bytes) -> bytes:
    """``raw`` tied to ``thread`` by its thread token header, the way bounces quote ours back.

    The header changes nothing the classifier says of any sample (they name none of our mail).
    """
    return f"X-LinkCRM-Thread: {thread.enrollment.thread_token}\r\n".encode() + raw


def _after(kind: str, inbound: InboundMessage, raw: bytes) -> tuple[str, str, set[str]]:
    """What one sample about our thread leaves: enrollment status, stop reason, addresses on do-not-contact."""
    if kind == MessageKind.REPLY:
        return EnrollmentStatus.STOPPED, StopReason.REPLIED, set()
    if kind == MessageKind.BOUNCE:  # the parametrized bounces fail one recipient for good
        return EnrollmentStatus.STOPPED, StopReason.BOUNCED, {inbound.failed_recipient}
    if kind == MessageKind.COMPLAINT:
        return EnrollmentStatus.STOPPED, StopReason.COMPLAINED, {_arf_recipient(raw)}
    return EnrollmentStatus.ACTIVE, "", set()  # an auto-reply whose return date is past: no pause


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
    thread = start_thread(mailbox, make_project("Samples", alice), "example.org", by=alice)
    raw = (samples_dir / "emails" / folder / name).read_bytes()
    # An auto-reply arrives on its own date, so its year-less return date is past whatever today is.
    arrived = parsedate_to_datetime(message_from_bytes(raw)["Date"]) if kind == MessageKind.AUTO_REPLY else None
    append(stack, mailbox.email, _about(thread, raw), arrived=arrived)

    result = mailbox_sync(mailbox.pk)

    assert (result.stored, result.unrelated, result.error) == (1, 0, "")
    inbound = InboundMessage.objects.get(mailbox=mailbox)
    assert (inbound.kind, inbound.match_method, inbound.enrollment) == (kind, MatchMethod.TOKEN, thread.enrollment)
    assert inbound.needs_attention == (kind == MessageKind.REPLY)
    assert inbound.subject and inbound.raw_size > 0
    if kind == MessageKind.AUTO_REPLY:
        assert inbound.return_date is not None and inbound.return_date < timezone.now().date()
    status, reason, suppressed = _after(kind, inbound, raw)
    _refreshed(thread)
    assert (thread.enrollment.status, thread.enrollment.stop_reason) == (status, reason)
    # Only a bounce or complaint puts anyone on do-not-contact: the address it names, for every project.
    assert set(Suppression.objects.values_list("value", flat=True)) == suppressed
    assert not Suppression.objects.filter(project__isnull=False).exists()


def test_every_sample_email_is_classified_by_its_folder_when_synced(stack, alice, samples_dir):
    expected = {"human-replies": MessageKind.REPLY, "auto-replies": MessageKind.AUTO_REPLY,
                "bounces": MessageKind.BOUNCE, "complaints": MessageKind.COMPLAINT}  # fmt: skip
    files = sorted(p for folder in expected for p in (samples_dir / "emails" / folder).glob("*.eml"))
    mailbox = sandbox_mailbox(stack, alice)
    project = make_project("Samples", alice)
    # One thread per sample (UID n is files[n - 1]): each sample's consequences fall on its own thread.
    threads = [start_thread(mailbox, project, f"sample{n}.org", by=alice) for n in range(len(files))]
    append(stack, mailbox.email, *(_about(t, p.read_bytes()) for t, p in zip(threads, files, strict=True)))

    result = mailbox_sync(mailbox.pk, batch_size=7)

    assert (result.fetched, result.unrelated, result.error) == (len(files), 0, "")
    # Keyed like the inbox: two samples share a Message-ID with another and only the first
    # is stored; messages without one are keyed by a hash of their bytes.
    ids = [_message_id(p) for p in files]
    first: dict[str | int, int] = {}  # dedupe key (Message-ID, or the UID when none) -> first UID
    for uid, message_id in enumerate(ids, start=1):
        first.setdefault(message_id or uid, uid)
    rows = InboundMessage.objects.filter(mailbox=mailbox).values_list("uid", "kind", "match_method", "enrollment",
                                                                      "dedupe_key")  # fmt: skip
    assert {uid: (kind, method, enrollment) for uid, kind, method, enrollment, _ in rows} == {
        uid: (expected[files[uid - 1].parent.name], MatchMethod.TOKEN, threads[uid - 1].enrollment.pk)
        for uid in first.values()}
    assert all(key == ids[uid - 1] if ids[uid - 1] else key.startswith("sha256:") for uid, *_, key in rows)
    for uid in first.values():
        if expected[files[uid - 1].parent.name] == MessageKind.REPLY:
            assert _refreshed(threads[uid - 1]).prospect.stage == Stage.REPLY_RECEIVED
    (complaint,) = (p for p in files if p.parent.name == "complaints")
    assert suppression_match(project=None, email=_arf_recipient(complaint.read_bytes())) is not None


def _message_id(path: Path) -> str | None:
    from outreach.classify import classify_message

    return classify_message(path.read_bytes()).message_id
