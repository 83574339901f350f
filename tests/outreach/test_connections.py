"""Connections to the real sandbox servers: logins work, refusals and dead ports are told apart."""

from __future__ import annotations

import socket

import pytest

from outreach.connections import MailboxAuthError, MailboxConnectError, imap_connect, smtp_connect
from tests.outreach.world import sandbox_mailbox

pytestmark = [pytest.mark.django_db, pytest.mark.mail]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_it_logs_in_over_smtp_and_imap(stack, alice) -> None:
    mailbox = sandbox_mailbox(stack, alice)
    smtp = smtp_connect(mailbox, timeout=10)
    assert smtp.noop()[0] == 250
    smtp.quit()
    imap = imap_connect(mailbox, timeout=10)
    assert b"INBOX" in [name for _, _, name in imap.list_folders()] or imap.folder_exists("INBOX")
    imap.logout()


def test_a_wrong_password_is_an_auth_error_without_the_password(stack, alice) -> None:
    mailbox = sandbox_mailbox(stack, alice)
    mailbox.set_smtp_password("not-the-password")
    mailbox.set_imap_password("not-the-password")

    with pytest.raises(MailboxAuthError) as smtp_error:
        smtp_connect(mailbox, timeout=10)
    with pytest.raises(MailboxAuthError) as imap_error:
        imap_connect(mailbox, timeout=10)
    assert "not-the-password" not in str(smtp_error.value) + str(imap_error.value)


def test_a_dead_port_is_a_connect_error(stack, alice) -> None:
    mailbox = sandbox_mailbox(stack, alice, smtp_port=_free_port(), imap_port=_free_port())
    with pytest.raises(MailboxConnectError):
        smtp_connect(mailbox, timeout=5)
    with pytest.raises(MailboxConnectError):
        imap_connect(mailbox, timeout=5)
