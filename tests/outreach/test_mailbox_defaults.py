"""A new mailbox never assumes its server files sent mail: a wrong guess could send twice."""

from __future__ import annotations

from outreach.forms import MailboxForm
from outreach.models import Mailbox


def test_a_new_mailbox_does_not_assume_the_server_files_sent_mail() -> None:
    assert Mailbox().server_saves_sent is False
    assert MailboxForm().fields["server_saves_sent"].initial is False
