"""The IMAP half of ``make bench-outreach``: reply sync of a 10,000-message mailbox vs a bare fetch.

``measure_sync()`` (imported by bench/outreach_bench.py, which has started the stack and set
up Django) does, on the running local stack:

1. fills a fresh sandbox mailbox with ``messages`` realistic messages — mostly people's mail
   unrelated to outreach, newsletters, auto-replies and bounces, and 1 % human replies to
   threads of ours (real enrollments, so the reply automation runs). The messages are
   written straight into the mailbox's Maildir (delivering 10,000 over LMTP or APPEND costs
   minutes of fsyncs and measures nothing we do); an untimed read lets Dovecot index them;
2. times a bare imapclient read over one connection: EXAMINE, UID SEARCH, one FETCH of
   every message's headers (``BODY.PEEK[HEADER]``, size, date: what the syncer reads of
   every message) — three times, two before and one after the sync, and takes the median;
3. times ``mailbox_sync`` of the same mailbox: batched header FETCH (on a thread of its
   own, the next batch read while this one is judged), a second FETCH of the whole messages
   whose headers say the body matters (replies to our threads, bounces, auto-replies),
   classification, thread matching, storing the messages about our threads (the others
   are counted and skipped, as in every sync), automation for the replies;
4. prints the round's ratio (sync seconds / bare seconds) and the sync's own split (IMAP,
   classification, matching, storing);
5. does 1-4 three times (``ROUNDS``), each time with a fresh mailbox, and returns the median
   round's ratio and the messages per second of the median sync: on a shared machine one
   sync can land in someone else's burst as easily as one bare read.

Alone, ``python bench/outreach_sync_bench.py`` starts its own stack (PostgreSQL + Dovecot)
under bench/out/outreach-sync-stack on ports LINKCRM_BENCH_SYNC_{PG,SMTP,IMAP,LMTP}_PORT
(defaults 55496-55499), runs the measurement, stops the stack and prints
``RESULT outreach-sync sync_ratio=<x> sync_per_s=<n>``. Options: ``--messages N``, ``--rounds N``,
``--keep``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))

from common import log  # noqa: E402

TARGET_RATIO = 2.0
ROUNDS = 3  # the sync's result is the median of this many rounds
THREADS = 100  # enrollments whose contacts reply (1 % of 10,000)
PORTS = {"PG": 55496, "SMTP": 55497, "IMAP": 55498, "LMTP": 55499}


# --- the world: threads of ours, a mailbox full of mail ----------------------------------------


def bench_mailbox(config: Any) -> Any:
    """A fresh sandbox mailbox with IMAP on the running stack."""
    from django.contrib.auth import get_user_model

    from outreach.choices import SmtpSecurity
    from outreach.models import Mailbox

    owner, _ = get_user_model().objects.get_or_create(username="bench-outreach-sync")
    address = f"sync-{uuid.uuid4().hex[:8]}@linkcrm.test"
    mailbox = Mailbox(
        owner=owner, name=f"Bench sync {address}", email=address, smtp_host="127.0.0.1", smtp_port=config.smtp_port,
        smtp_security=SmtpSecurity.PLAIN, imap_host="127.0.0.1", imap_port=config.imap_port, imap_ssl=False,
        imap_username=address,
    )  # fmt: skip
    mailbox.set_imap_password(config.sandbox_password)
    mailbox.save()
    return mailbox


def bench_threads(mailbox: Any, count: int) -> list[Any]:
    """``count`` Contacted prospects, each enrolled with its first message sent and a follow-up queued."""
    import datetime as dt

    from django.utils import timezone

    from outreach.choices import OutboxStatus
    from outreach.models import EmailTemplate, Enrollment, OutboundMessage, Sequence, SequenceStep
    from prospects.choices import ProspectSource, Stage
    from prospects.models import Contact, Prospect
    from prospects.services.creation import prospects_create
    from prospects.services.projects import project_create

    tag = secrets.token_hex(4)
    project = project_create(name=f"Bench sync {tag}", created_by=None)
    domains = [f"bench-site{n}-{tag}.com" for n in range(count)]
    prospects_create(project=project, domains=domains, source=ProspectSource.MANUAL, created_by=None)
    prospects = list(Prospect.objects.filter(project=project).order_by("pk"))
    Prospect.objects.filter(project=project).update(stage=Stage.CONTACTED)
    contacts = Contact.objects.bulk_create(
        Contact(prospect=p, name="Jane Doe", email=f"editor@{p.domain}", is_primary=True) for p in prospects
    )
    template = EmailTemplate.objects.create(name=f"Bench sync {tag}", subject="A link", text="Hi", version=1)
    sequence = Sequence.objects.create(name=f"Bench sync {tag}")
    for position in (1, 2):
        SequenceStep.objects.create(sequence=sequence, position=position, template=template, delay_days=3)
    enrollments = Enrollment.objects.bulk_create(
        Enrollment(sequence=sequence, prospect=p, contact=c, mailbox=mailbox, domain=p.domain, current_step=1)
        for p, c in zip(prospects, contacts, strict=True)
    )
    now = timezone.now()
    sent = []
    for enrollment in enrollments:
        for position, status in ((1, OutboxStatus.SENT), (2, OutboxStatus.QUEUED)):
            sent.append(OutboundMessage(
                mailbox=mailbox, enrollment=enrollment, step_position=position, prospect=enrollment.prospect,
                contact=enrollment.contact, from_address=mailbox.email, to_address=enrollment.contact.email,
                subject="A resource for your readers", text="Hi", status=status,
                message_id=f"<{enrollment.thread_token}.{secrets.token_hex(16)}@linkcrm.test>",
                due_at=now + dt.timedelta(days=3 * (position - 1)), sent_at=now if position == 1 else None,
            ))  # fmt: skip
    OutboundMessage.objects.bulk_create(sent)
    return [m for m in sent if m.step_position == 1]


def message_for(n: int, mailbox: Any, threads: list[Any]) -> bytes:
    """Message ``n`` of the mix: 1 % replies to our threads, 5 % auto-replies, 3 % bounces,
    10 % newsletters, the rest people's mail that has nothing to do with outreach."""
    kind = n % 100
    date = f"Sat, 21 Nov 2026 10:{n // 60 % 60:02d}:{n % 60:02d} +0000"
    ident = f"<{uuid.uuid4().hex}@mail.example.net>"
    if kind == 0 or 1 <= kind <= 5:
        ours = threads[(n // 100) % len(threads)]
        auto = "Auto-Submitted: auto-replied\r\n" if kind else ""
        text = "Thanks for getting in touch! I'll have a look at the guide this week." if not kind else (
            "I am away and will read your message when I am back.")  # fmt: skip
        return (f"From: Jane Doe <{ours.to_address}>\r\nTo: {mailbox.email}\r\nSubject: Re: {ours.subject}\r\n"
                f"Date: {date}\r\nMessage-ID: {ident}\r\nIn-Reply-To: {ours.message_id}\r\n"
                f"References: {ours.message_id}\r\n{auto}Content-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n\r\n"
                f"On Fri, 20 Nov 2026, {mailbox.email} wrote:\r\n> Hi Jane,\r\n> A resource for your readers?\r\n"
                ).encode()  # fmt: skip
    if 6 <= kind <= 8:
        return (f"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\nTo: {mailbox.email}\r\n"
                f"Subject: Undelivered Mail Returned to Sender\r\nDate: {date}\r\nMessage-ID: {ident}\r\n"
                "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n"
                "\r\n--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
                "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n"
                f"Final-Recipient: rfc822; someone{n}@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n"
                "Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n--b--\r\n").encode()  # fmt: skip
    if 9 <= kind <= 18:
        return (f"From: Weekly News <news@list.example.com>\r\nTo: {mailbox.email}\r\nSubject: This week #{n}\r\n"
                f"Date: {date}\r\nMessage-ID: {ident}\r\nPrecedence: bulk\r\nList-Id: <weekly.list.example.com>\r\n"
                "List-Unsubscribe: <https://list.example.com/u>\r\nContent-Type: text/plain\r\n\r\n"
                + "Ten links worth reading this week.\r\n" * 20).encode()  # fmt: skip
    return (f"From: Colleague {n % 37} <colleague{n % 37}@company.example>\r\nTo: {mailbox.email}\r\n"
            f"Subject: Project update {n}\r\nDate: {date}\r\nMessage-ID: {ident}\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            + "Here is where we are on the project; let's talk on Monday.\r\n" * 8).encode()  # fmt: skip


def fill_mailbox(config: Any, mailbox: Any, raws: list[bytes]) -> None:
    """Write ``raws`` into the mailbox's INBOX Maildir (Dovecot creates it at the first login)."""
    from imapclient import IMAPClient

    from linkcrm.localstack import mail

    with IMAPClient("127.0.0.1", port=config.imap_port, ssl=False, timeout=60) as client:
        client.login(mailbox.email, config.sandbox_password)
        client.select_folder("INBOX", readonly=True)
    maildir = mail._mail_root(config) / "boxes" / mailbox.email.lower() / "Maildir"
    owner = maildir.stat()
    stamp = int(time.time())
    for n, raw in enumerate(raws):
        path = maildir / "cur" / f"{stamp}.M{n}P{os.getpid()}.bench,S={len(raw)}:2,"
        path.write_bytes(raw)
        os.chown(path, owner.st_uid, owner.st_gid)


# --- the two reads -------------------------------------------------------------------------------


def bare_read(config: Any, mailbox: Any) -> int:
    """What any client must do at least: one connection, EXAMINE, SEARCH, one FETCH of every header."""
    from imapclient import IMAPClient

    with IMAPClient("127.0.0.1", port=config.imap_port, ssl=False, timeout=300) as client:
        client.login(mailbox.email, config.sandbox_password)
        client.select_folder("INBOX", readonly=True)
        uids = client.search(["ALL"])
        fetched = client.fetch(uids, ["BODY.PEEK[HEADER]", "RFC822.SIZE", "INTERNALDATE"])
    return len(fetched)


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    answer = function()
    return time.perf_counter() - started, answer


def measure_sync(messages: int = 10_000, *, batch_size: int | None = None, rounds: int = ROUNDS) -> tuple[float, float]:
    """(sync seconds / bare-fetch seconds, synced messages per second) on the running stack.

    The median of ``rounds`` rounds, each on a fresh mailbox of its own: on a shared machine
    one sync can land in someone else's burst as easily as one bare read can.
    """
    measured = [_sync_round(messages, batch_size, n + 1) for n in range(rounds)]
    ratio = statistics.median(r for r, _ in measured)
    sync_s = statistics.median(s for _, s in measured)
    each = ", ".join(f"{r:.2f}" for r, _ in measured)
    log(f"sync: ratio {ratio:.2f}, the median of {each} "
        f"({'ok' if ratio <= TARGET_RATIO else f'ABOVE the {TARGET_RATIO} target'})")  # fmt: skip
    return ratio, messages / sync_s


def _sync_round(messages: int, batch_size: int | None, number: int) -> tuple[float, float]:
    """One round: (sync seconds / bare-fetch seconds, sync seconds) for a fresh mailbox."""
    from linkcrm.localstack.config import StackConfig
    from outreach.models import InboundMessage
    from outreach.services.inbox import mailbox_sync

    config = StackConfig.from_env()
    mailbox = bench_mailbox(config)
    threads = bench_threads(mailbox, min(THREADS, max(1, messages // 100)))
    raws = [message_for(n, mailbox, threads) for n in range(messages)]
    seconds, _ = timed(lambda: fill_mailbox(config, mailbox, raws))
    log(f"sync round {number}: {messages:,} messages written to {mailbox.email} in {seconds:.1f} s")
    warm, read = timed(lambda: bare_read(config, mailbox))  # Dovecot indexes the new files
    # The baseline is the median of three reads, two before the sync and one after: on a shared
    # machine one read can land in someone else's burst, and load may drift during the sync.
    bare = [timed(lambda: bare_read(config, mailbox))[0] for _ in range(2)]
    log(f"sync round {number}: load average {os.getloadavg()[0]:.2f}")
    sync_s, result = timed(lambda: mailbox_sync(mailbox.pk, batch_size=batch_size))
    bare.append(timed(lambda: bare_read(config, mailbox))[0])
    bare_s = statistics.median(bare)
    reads = ", ".join(f"{seconds:.2f}" for seconds in bare)
    log(f"sync round {number}: bare imapclient fetch of {read:,} messages: {bare_s:.2f} s (median of {reads}; "
        f"first, indexing: {warm:.2f} s); load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    stored = InboundMessage.objects.filter(mailbox=mailbox).count()
    if result.error or result.fetched != messages or stored + result.unrelated != messages:
        raise SystemExit(f"sync: fetched {result.fetched}, stored {stored} and skipped {result.unrelated} "
                         f"of {messages}: {result.error or 'short'}")  # fmt: skip
    split = ", ".join(f"{name} {value:.2f} s" for name, value in result.timings.items())
    other = sync_s - sum(result.timings.values())
    per_message = result.timings["classify"] / messages * 1e6
    log(f"sync round {number}: mailbox_sync {sync_s:.2f} s ({split}, other {other:.2f} s); "
        f"classification {per_message:.0f} µs a message")  # fmt: skip
    _report_kinds(mailbox)
    log(f"sync round {number}: ratio {sync_s / bare_s:.2f}")
    return sync_s / bare_s, sync_s


def _report_kinds(mailbox: Any) -> None:
    from django.db.models import Count

    from outreach.models import InboundMessage

    kinds = InboundMessage.objects.filter(mailbox=mailbox).values_list("kind").annotate(n=Count("pk")).order_by("kind")
    matched = InboundMessage.objects.filter(mailbox=mailbox).exclude(match_method="none").count()
    log(f"sync: stored {', '.join(f'{kind} {n}' for kind, n in kinds)}; {matched} matched to our threads")


# --- alone ----------------------------------------------------------------------------------------


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--keep", action="store_true", help="leave the stack running")
    args = parser.parse_args(argv)
    from outreach_bench import stack_config, start_stack, stop_stack

    config = stack_config("outreach-sync", PORTS, "SYNC")
    try:
        start_stack(config)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linkcrm.settings")
        import django

        django.setup()
        ratio, per_s = measure_sync(args.messages, rounds=args.rounds)
    finally:
        if not args.keep:
            stop_stack(config)
    log(f"RESULT outreach-sync sync_ratio={ratio:.2f} sync_per_s={per_s:.0f}")


if __name__ == "__main__":
    main(sys.argv[1:])
