"""The local mail sandbox: mail sent over SMTP is read back over IMAP from Dovecot."""

from __future__ import annotations

import smtplib
import uuid
from email.message import EmailMessage

import pytest
from imapclient import IMAPClient

pytestmark = pytest.mark.mail


def _message(to: str, subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "sender@linkcrm.test"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{uuid.uuid4()}@linkcrm.test>"
    message.set_content("Hello from the sandbox.\n")
    return message


def test_mail_sent_over_smtp_is_read_back_over_imap(stack):
    mailbox = f"reader-{uuid.uuid4().hex[:8]}@linkcrm.test"
    sent = _message(mailbox, "Sandbox round trip")
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=10) as smtp:
        smtp.login("sender@linkcrm.test", stack.sandbox_password)
        smtp.send_message(sent)

    # Delivery happens inside the SMTP DATA command, so the message is there already.
    with IMAPClient("127.0.0.1", port=stack.imap_port, ssl=False, timeout=10) as imap:
        imap.login(mailbox, stack.sandbox_password)
        imap.select_folder("INBOX", readonly=True)
        uids = imap.search(["HEADER", "Message-ID", sent["Message-ID"]])
        assert len(uids) == 1
        fetched = imap.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (SUBJECT TO)]", "FLAGS"])[uids[0]]
    headers = fetched[b"BODY[HEADER.FIELDS (SUBJECT TO)]"].decode()
    assert "Subject: Sandbox round trip" in headers
    assert mailbox in headers
    assert b"\\Seen" not in fetched[b"FLAGS"]


def test_each_recipient_gets_its_own_copy(stack):
    first, second = (f"r{i}-{uuid.uuid4().hex[:8]}@linkcrm.test" for i in range(2))
    message = _message(f"{first}, {second}", "Two recipients")
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=10) as smtp:
        smtp.send_message(message)
    for mailbox in (first, second):
        with IMAPClient("127.0.0.1", port=stack.imap_port, ssl=False, timeout=10) as imap:
            imap.login(mailbox, stack.sandbox_password)
            assert imap.select_folder("INBOX", readonly=True)[b"EXISTS"] == 1


def test_smtp_login_with_a_wrong_password_is_refused(stack):
    with (
        smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=10) as smtp,
        pytest.raises(smtplib.SMTPAuthenticationError),
    ):
        smtp.login("sender@linkcrm.test", "not-the-password")


def test_imap_has_a_sent_folder_for_reconciliation(stack):
    with IMAPClient("127.0.0.1", port=stack.imap_port, ssl=False, timeout=10) as imap:
        imap.login(f"sent-{uuid.uuid4().hex[:8]}@linkcrm.test", stack.sandbox_password)
        folders = {name for _, _, name in imap.list_folders()}
    assert "Sent" in folders
