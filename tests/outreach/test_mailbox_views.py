"""Mailbox pages: write-only passwords, validation, ownership, connection test, pause and banner."""

from __future__ import annotations

import pytest

from outreach.choices import MailboxStatus
from outreach.models import Mailbox
from outreach.services.mailboxes import mailbox_test_connection
from outreach.services.transitions import mailbox_pause
from tests.outreach.world import sandbox_mailbox, unique_address

pytestmark = pytest.mark.django_db

SECRET = "s3cret-app-password-XYZ"  # noqa: S105 (a test value)


def form_data(email: str, **extra: object) -> dict:
    data = {
        "name": "Work", "email": email, "from_name": "Alice", "signature": "",
        "smtp_host": "127.0.0.1", "smtp_port": "2525", "smtp_security": "plain", "smtp_username": email,
        "smtp_password": SECRET, "imap_host": "127.0.0.1", "imap_port": "1143", "imap_username": email,
        "imap_password": "", "watch_folders": "INBOX, Replies", "sent_folder": "Sent",
        "daily_cap": "40", "min_gap_seconds": "90", "gap_jitter_seconds": "30", "window_days": ["0", "2", "4"],
        "window_start": "08:30", "window_end": "18:00", "timezone": "Europe/Berlin",
    }
    data.update(extra)
    return data


def test_it_creates_a_mailbox_with_an_encrypted_password_never_shown_again(alice, client_for):
    client = client_for(alice)
    address = unique_address("alice")
    response = client.post("/outreach/mailboxes/new/", form_data(address))
    mailbox = Mailbox.objects.get(email=address)
    assert response.status_code == 302
    assert (mailbox.owner, mailbox.daily_cap, mailbox.window_days, mailbox.timezone) == (alice, 40, [0, 2, 4],
                                                                                         "Europe/Berlin")
    assert mailbox.watch_folders == ["INBOX", "Replies"]
    assert SECRET not in mailbox.smtp_password and mailbox.get_smtp_password() == SECRET
    assert mailbox.get_imap_password() == SECRET  # blank IMAP password: same as SMTP for a new mailbox
    page = client.get(f"/outreach/mailboxes/{mailbox.pk}/").content.decode()
    assert SECRET not in page and mailbox.smtp_password not in page
    assert "A password is stored" in page


def test_a_blank_password_on_edit_keeps_the_stored_one(alice, client_for):
    client = client_for(alice)
    address = unique_address("alice")
    client.post("/outreach/mailboxes/new/", form_data(address))
    mailbox = Mailbox.objects.get(email=address)
    client.post(f"/outreach/mailboxes/{mailbox.pk}/", form_data(address, smtp_password="", daily_cap="7"))
    mailbox.refresh_from_db()
    assert (mailbox.daily_cap, mailbox.get_smtp_password()) == (7, SECRET)
    client.post(f"/outreach/mailboxes/{mailbox.pk}/", form_data(address, smtp_password="new-one"))
    mailbox.refresh_from_db()
    assert mailbox.get_smtp_password() == "new-one"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timezone", "Mars/Olympus", "not a known time zone"),
        ("window_end", "07:00", "must end after it starts"),
        ("window_days", [], "This field is required"),
    ],
)
def test_it_refuses_bad_values_and_saves_nothing(alice, client_for, field, value, message):
    response = client_for(alice).post("/outreach/mailboxes/new/", form_data(unique_address(), **{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Mailbox.objects.exists()


def test_a_new_mailbox_needs_a_password(alice, client_for):
    response = client_for(alice).post("/outreach/mailboxes/new/", form_data(unique_address(), smtp_password=""))
    assert "needs its password" in response.content.decode()
    assert not Mailbox.objects.exists()


def test_people_manage_their_own_mailboxes_and_admins_everyones(stack, alice, bob, admin_user, client_for):
    mailbox = sandbox_mailbox(stack, alice)
    assert client_for(bob).get(f"/outreach/mailboxes/{mailbox.pk}/").status_code == 404
    assert client_for(bob).post(f"/outreach/mailboxes/{mailbox.pk}/pause/", {"action": "pause"}).status_code == 404
    assert mailbox.email not in client_for(bob).get("/outreach/mailboxes/").content.decode()
    assert client_for(admin_user).get(f"/outreach/mailboxes/{mailbox.pk}/").status_code == 200
    assert mailbox.email in client_for(admin_user).get("/outreach/mailboxes/").content.decode()


@pytest.mark.mail
def test_the_connection_test_logs_in_to_smtp_and_imap_and_lists_folders(stack, alice, client_for):
    mailbox = sandbox_mailbox(stack, alice)
    page = client_for(alice).post(f"/outreach/mailboxes/{mailbox.pk}/test/").content.decode()
    assert 'data-smtp="ok"' in page and 'data-imap="ok"' in page
    assert "<li>INBOX</li>" in page


@pytest.mark.mail
def test_the_connection_test_warns_of_folders_the_server_does_not_have(stack, alice, client_for):
    mailbox = sandbox_mailbox(stack, alice, watch_folders=["INBOX", "Replies"], sent_folder="Sent Items")
    page = client_for(alice).post(f"/outreach/mailboxes/{mailbox.pk}/test/").content.decode()
    assert 'id="folder-warnings"' in page
    assert "Watched folder “Replies” is not on the server" in page
    assert "Sent folder “Sent Items” is not on the server" in page
    assert "copies of sent mail cannot be filed there" not in page  # the sandbox files sent mail itself


@pytest.mark.mail
def test_the_connection_test_names_the_servers_own_sent_folder(stack, alice):
    mailbox = sandbox_mailbox(stack, alice, sent_folder="INBOX", server_saves_sent=False)
    assert mailbox_test_connection(mailbox).warnings == ["The server marks “Sent” as its Sent folder, not “INBOX”."]
    mailbox.sent_folder = "Sent"
    assert mailbox_test_connection(mailbox).warnings == []
    mailbox.sent_folder = "Outbox"
    (warning,) = mailbox_test_connection(mailbox).warnings
    assert warning.startswith("Sent folder “Outbox” is not on the server") and "cannot be filed there" in warning


@pytest.mark.mail
def test_a_refused_login_is_reported_for_each_protocol_without_pausing(stack, alice, client_for):
    mailbox = sandbox_mailbox(stack, alice)
    mailbox.set_smtp_password("wrong")
    mailbox.set_imap_password("wrong")
    mailbox.save()
    page = client_for(alice).post(f"/outreach/mailboxes/{mailbox.pk}/test/").content.decode()
    assert 'data-smtp="failed"' in page and 'data-imap="failed"' in page
    assert "refused" in page and "wrong" not in page
    mailbox.refresh_from_db()
    assert mailbox.status == MailboxStatus.ACTIVE


@pytest.mark.mail
def test_an_unreachable_server_is_reported_not_raised(stack, alice, client_for):
    mailbox = sandbox_mailbox(stack, alice, smtp_port=1, imap_port=1)
    page = client_for(alice).post(f"/outreach/mailboxes/{mailbox.pk}/test/").content.decode()
    assert 'data-smtp="failed"' in page and 'data-imap="failed"' in page


def test_pause_and_resume(stack, alice, client_for):
    mailbox = sandbox_mailbox(stack, alice)
    client = client_for(alice)
    client.post(f"/outreach/mailboxes/{mailbox.pk}/pause/", {"action": "pause"})
    mailbox.refresh_from_db()
    assert (mailbox.status, mailbox.paused_reason) == (MailboxStatus.PAUSED, "Paused by alice")
    assert "data-paused-banner" not in client.get("/outreach/mailboxes/").content.decode()
    client.post(f"/outreach/mailboxes/{mailbox.pk}/pause/", {"action": "resume"})
    mailbox.refresh_from_db()
    assert mailbox.status == MailboxStatus.ACTIVE


def test_the_owner_sees_a_banner_when_an_auth_failure_paused_the_mailbox(stack, alice, bob, client_for):
    mailbox = sandbox_mailbox(stack, alice)
    mailbox_pause(mailbox_id=mailbox.pk, reason="SMTP login refused for x@y: 535")
    for url in ("/", "/outreach/", "/outreach/mailboxes/", "/outreach/inbox/"):
        page = client_for(alice).get(url).content.decode()
        assert "data-paused-banner" in page and "SMTP login refused" in page, url
    assert "data-paused-banner" not in client_for(bob).get("/outreach/").content.decode()
    assert "data-paused-banner" not in client_for(bob).get("/").content.decode()


def test_the_nav_lists_the_outreach_screens_and_highlights_the_open_one(alice, client_for):
    page = client_for(alice).get("/outreach/mailboxes/").content.decode()
    nav = page[page.index('class="mainnav"'):page.index("</nav>")]
    for label in ("Mailboxes", "Templates", "Sequences", "Inbox"):
        assert f">{label}</a>" in nav
    assert 'href="/outreach/mailboxes/" class="active" aria-current="page"' in nav
    assert 'href="/outreach/" class="active"' not in nav
