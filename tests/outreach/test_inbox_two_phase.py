"""The reply sync's two reads against the real Dovecot sandbox: headers of everything, bodies where they matter.

Every new message is read by its header block; only mail tied to one of our threads, mail
shaped like a bounce, report or out-of-office, and our mail without a Message-ID are fetched
whole (docs/outreach.md, "How replies are read"). Only mail about our threads is kept: the
rest is counted as unrelated and skipped.
"""

from __future__ import annotations

import hashlib
import secrets
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

import pytest

from outreach.choices import EnrollmentStatus, MatchMethod, MessageKind, OutboxStatus
from outreach.imap import FetchedMessage
from outreach.models import InboundMessage
from outreach.services.inbox import mailbox_sync
from prospects.choices import EmailStatus, Stage
from tests.outreach.inbox_world import Thread, append, folder_flags, imap_session, reply_to, start_thread
from tests.outreach.world import make_project, sandbox_mailbox

pytestmark = [pytest.mark.django_db, pytest.mark.mail]

BODY = "Are you free on Friday? The new figures are in.\n"


@pytest.fixture
def thread(stack, alice) -> Thread:
    mailbox = sandbox_mailbox(stack, alice)
    return start_thread(mailbox, make_project("Tools", alice), "example.org", by=alice)


def _stranger(
    thread: Thread, *, subject: str = "Lunch?", text: str = BODY, sender: str = "Sam Stranger <sam@elsewhere.test>",
    message_id: bool = True,
) -> bytes:  # fmt: skip
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = thread.mailbox.email
    mail["Subject"] = subject
    mail["Date"] = "Sat, 21 Nov 2026 10:00:00 +0000"
    if message_id:
        mail["Message-ID"] = f"<{secrets.token_hex(8)}@elsewhere.test>"
    mail.set_content(text)
    return bytes(mail)


def _server_bytes(stack, address: str, uid: int) -> bytes:
    with imap_session(stack, address) as client:
        client.select_folder("INBOX", readonly=True)
        return client.fetch([uid], ["BODY.PEEK[]"])[uid][b"BODY[]"]


@pytest.fixture
def read_whole(monkeypatch) -> list[int]:
    """The UIDs each sync fetched whole (the second FETCH), in order."""
    from outreach.services import inbox

    uids: list[int] = []
    real = inbox.fetch_messages

    def recorded(client: object, wanted: list[int], **kwargs: object) -> list[FetchedMessage]:
        uids.extend(wanted)
        return real(client, wanted, **kwargs)

    monkeypatch.setattr(inbox, "fetch_messages", recorded)
    return uids


def _reply_without_message_id(thread: Thread, text: str) -> bytes:
    """A reply to our first message (In-Reply-To it) that carries no Message-ID."""
    mail = message_from_bytes(reply_to(thread.sent, text), policy=default)
    del mail["Message-ID"]
    return bytes(mail)


def test_unrelated_mail_is_skipped_from_its_headers_and_triggers_nothing(stack, thread, read_whole):
    append(stack, thread.mailbox.email, _stranger(thread))

    result = mailbox_sync(thread.mailbox.pk)

    assert (result.fetched, result.stored, result.unrelated) == (1, 0, 1)
    assert read_whole == []  # its body was never read
    assert not InboundMessage.objects.filter(mailbox=thread.mailbox).exists()
    thread.enrollment.refresh_from_db()
    thread.follow_up.refresh_from_db()
    assert (thread.enrollment.status, thread.follow_up.status) == (EnrollmentStatus.ACTIVE, OutboxStatus.QUEUED)

    append(stack, thread.mailbox.email, reply_to(thread.sent))
    assert mailbox_sync(thread.mailbox.pk).stored == 1
    assert read_whole == [2]  # a reply to our thread is read whole; the stranger is not read again


def test_the_body_of_a_reply_to_our_thread_is_stored(stack, thread):
    append(stack, thread.mailbox.email, reply_to(thread.sent, "Happy to add your guide next week.\n"))

    mailbox_sync(thread.mailbox.pk)

    inbound = InboundMessage.objects.get(mailbox=thread.mailbox)
    assert (inbound.match_method, inbound.needs_attention) == (MatchMethod.IN_REPLY_TO, True)
    assert "Happy to add your guide next week." in inbound.text


def test_a_reply_matched_only_by_its_sender_is_read_whole(stack, thread):
    append(stack, thread.mailbox.email, reply_to(thread.sent, "Saw your note, call me.\n", threaded="no"))

    mailbox_sync(thread.mailbox.pk)

    inbound = InboundMessage.objects.get(mailbox=thread.mailbox)
    assert inbound.match_method == MatchMethod.SENDER
    assert "Saw your note, call me." in inbound.text
    thread.prospect.refresh_from_db()
    assert thread.prospect.stage == Stage.REPLY_RECEIVED


@pytest.mark.parametrize("threaded", ["yes", "no"])  # asked whole for what it names, or once its sender matched
def test_mail_expunged_before_it_is_read_whole_is_not_kept(stack, thread, monkeypatch, threaded):
    from outreach.services import inbox

    append(stack, thread.mailbox.email, reply_to(thread.sent, "Saw your note.\n", threaded=threaded))
    monkeypatch.setattr(inbox, "fetch_messages", lambda client, wanted, **kwargs: [])  # gone from the folder

    result = mailbox_sync(thread.mailbox.pk)

    assert (result.fetched, result.stored) == (0, 0)
    assert not InboundMessage.objects.filter(mailbox=thread.mailbox).exists()
    thread.prospect.refresh_from_db()
    assert thread.prospect.stage == Stage.TO_CONTACT


def test_a_bounce_whose_only_link_to_our_thread_is_in_its_body_is_matched(stack, thread):
    bounce = f"""From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r
To: {thread.mailbox.email}\r
Subject: Undelivered Mail Returned to Sender\r
Date: Sat, 21 Nov 2026 10:00:00 +0000\r
Message-ID: <{secrets.token_hex(8)}@mx.example.org>\r
Content-Type: text/plain\r
\r
This is the mail system at host mx.example.org.\r
I'm sorry to have to inform you that your message could not be delivered.\r
\r
<{thread.contact.email}>: host mx.example.org said: 550 5.1.1 User unknown\r
\r
--- Returned message ---\r
Message-ID: {thread.sent.message_id}\r
""".encode()
    append(stack, thread.mailbox.email, bounce)

    mailbox_sync(thread.mailbox.pk)

    inbound = InboundMessage.objects.get(mailbox=thread.mailbox)
    assert (inbound.kind, inbound.permanent, inbound.enrollment) == (MessageKind.BOUNCE, True, thread.enrollment)
    assert inbound.match_method != MatchMethod.NONE
    thread.contact.refresh_from_db()
    assert thread.contact.email_status == EmailStatus.BOUNCED


def test_an_out_of_office_subject_from_a_stranger_is_judged_with_its_body(stack, thread, read_whole):
    away_text = "I am away from my desk until Monday with limited access to email.\n"
    contact = f"Jane Doe <{thread.contact.email}>"
    append(
        stack, thread.mailbox.email,
        _stranger(thread, subject="Out of office", sender="kim@elsewhere.test", text=away_text),
        _stranger(thread, subject="Out of office plans"),
        # The same two from our contact, with no thread headers: tied to the thread by the sender.
        _stranger(thread, subject="Out of office", sender=contact, text=away_text),
        _stranger(thread, subject="Out of office plans", sender=contact),
    )  # fmt: skip

    result = mailbox_sync(thread.mailbox.pk)

    assert read_whole == [1, 2, 3, 4]  # an out-of-office subject asks for the body, whoever sent it
    assert (result.stored, result.unrelated) == (2, 2)  # the strangers' are judged, then not kept
    kept = InboundMessage.objects.filter(mailbox=thread.mailbox)
    # Subject and text together make an auto-reply; a subject alone does not (the body is read for both).
    assert dict(kept.values_list("uid", "kind")) == {3: MessageKind.AUTO_REPLY, 4: MessageKind.REPLY}
    assert set(kept.values_list("match_method", "enrollment")) == {(MatchMethod.SENDER, thread.enrollment.pk)}
    assert BODY.strip() in kept.get(uid=4).text


def test_mail_without_a_message_id_is_keyed_by_a_hash_of_the_whole_message(stack, thread, read_whole):
    append(stack, thread.mailbox.email, _stranger(thread, message_id=False),
           _reply_without_message_id(thread, "Sure, send it over.\n"))  # fmt: skip

    result = mailbox_sync(thread.mailbox.pk)

    assert (result.stored, result.unrelated) == (1, 1)  # the stranger's is not about our threads
    inbound = InboundMessage.objects.get(mailbox=thread.mailbox)
    assert (inbound.uid, inbound.match_method, inbound.message_id) == (2, MatchMethod.IN_REPLY_TO, "")
    whole = _server_bytes(stack, thread.mailbox.email, inbound.uid)
    assert inbound.dedupe_key == "sha256:" + hashlib.sha256(whole).hexdigest()
    assert read_whole == [2]  # the stranger's could be about nothing of ours, whatever its body says


def test_both_reads_leave_every_flag_alone(stack, thread):
    append(stack, thread.mailbox.email, _stranger(thread), reply_to(thread.sent))
    before = folder_flags(stack, thread.mailbox.email)

    mailbox_sync(thread.mailbox.pk)

    assert folder_flags(stack, thread.mailbox.email) == before


def test_undecodable_header_bytes_are_stored_replaced_not_refused(stack, thread):
    raw = (b"From: J\xe4ne \xff <jane@elsewhere.test>\r\nTo: " + thread.mailbox.email.encode() + b"\r\n"
           b"Subject: Caf\xe9 \xff\xfe\r\nMessage-ID: <undecodable@elsewhere.test>\r\n"
           b"In-Reply-To: " + thread.sent.message_id.encode() + b"\r\n"
           b"Date: Sat, 21 Nov 2026 10:00:00 +0000\r\n\r\nHello.\r\n")  # fmt: skip
    append(stack, thread.mailbox.email, raw)

    result = mailbox_sync(thread.mailbox.pk)

    assert (result.stored, result.error) == (1, "")
    inbound = InboundMessage.objects.get(mailbox=thread.mailbox)
    assert (inbound.match_method, inbound.enrollment) == (MatchMethod.IN_REPLY_TO, thread.enrollment)
    assert inbound.subject.startswith("Caf") and inbound.from_address == "jane@elsewhere.test"
