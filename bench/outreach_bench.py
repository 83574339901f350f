"""``make bench-outreach``: the outbox against a bare smtplib loop, then the IMAP sync benchmark.

What it does, all on this machine and without the internet:
1. starts its own stack (the local stack's test profile: PostgreSQL, Dovecot, the sandbox SMTP
   relay) on its own ports and data directory (bench/out/outreach-stack, gitignored) and
   migrates it;
2. queues 10,000 outbox rows for one sandbox mailbox (no cap, no gap, every hour open) and
   sends them with the real service (``outbox_send_batch``: claims in short transactions,
   one SMTP connection per batch, bulk status updates), and sends the same number of
   pre-built messages with a bare ``smtplib`` loop over one connection, in the same run, to
   the same server. The machine is shared and its load drifts, so the two take turns in
   small rounds (``--rounds``, alternating who goes first) and their times are summed.
   Both sides submit without logging in, so neither pays for the sandbox filing a Sent
   copy; both deliver into Dovecot over LMTP. Checks that every row is ``sent``
   and that both recipients received 10,000 messages;
3. calls ``measure_sync()`` from bench/outreach_sync_bench.py (the IMAP sync half);
4. stops the stack. The last line is machine-readable:
   ``RESULT outreach send_ratio=<x> send_per_s=<n> sync_ratio=<x> sync_per_s=<n>``

Options: ``--messages N`` (default 10,000), ``--rounds R`` (default 50), ``--keep`` (leave
the stack running); ``make bench-outreach BENCH_ARGS="--messages 2000"``. Ports:
LINKCRM_BENCH_OUTREACH_{PG,SMTP,IMAP,LMTP}_PORT (defaults 55492–55495).
"""

from __future__ import annotations

import argparse
import os
import smtplib
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import log, use_throwaway_secrets  # noqa: E402

TARGET_SEND_RATIO = 1.5
PORTS = {"PG": 55492, "SMTP": 55493, "IMAP": 55494, "LMTP": 55495}


def stack_config(name: str = "outreach", ports: dict[str, int] = PORTS, env_prefix: str = "OUTREACH") -> Any:
    """The stack in bench/out/<name>-stack; the environment is set so Django and the children agree.

    Each port is ``LINKCRM_BENCH_<env_prefix>_<PG|SMTP|IMAP|LMTP>_PORT`` if set, else its default in ``ports``.
    Shared with bench/outreach_sync_bench.py, which runs its own stack on other ports.
    """
    env = {"LINKCRM_STACK": "test", "LINKCRM_DATA_DIR": str(OUT / f"{name}-stack")}
    for port_name, default in ports.items():
        env[f"LINKCRM_{port_name}_PORT"] = os.environ.get(f"LINKCRM_BENCH_{env_prefix}_{port_name}_PORT", str(default))
    os.environ.update(env)
    use_throwaway_secrets()
    from linkcrm.localstack.config import StackConfig

    config = StackConfig.from_env()
    os.environ["DATABASE_URL"] = config.local_database_url
    return config


def start_stack(config: Any) -> None:
    from linkcrm.localstack import mail, postgres

    postgres.up(config)
    mail.up(config)
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"], env=config.child_environ(),
                   cwd=ROOT, check=True)  # fmt: skip


def stop_stack(config: Any) -> None:
    from linkcrm.localstack import mail, postgres

    mail.down(config)
    postgres.down(config)


# --- the world -----------------------------------------------------------------------------


def bench_mailbox(config: Any) -> Any:
    """A sandbox mailbox with no cap, no gap, open every hour; submits without a login."""
    import datetime as dt

    from django.contrib.auth import get_user_model

    from outreach.choices import SmtpSecurity
    from outreach.models import Mailbox

    owner, _ = get_user_model().objects.get_or_create(username="bench-outreach")
    address = f"bench-{uuid.uuid4().hex[:8]}@linkcrm.test"
    mailbox = Mailbox(
        owner=owner, name=f"Bench {address}", from_name="Bench Sender", email=address, smtp_host="127.0.0.1",
        smtp_port=config.smtp_port, smtp_security=SmtpSecurity.PLAIN, imap_host="127.0.0.1",
        imap_port=config.imap_port, imap_ssl=False, daily_cap=10_000, min_gap_seconds=0, gap_jitter_seconds=0,
        window_days=[0, 1, 2, 3, 4, 5, 6], window_start=dt.time(0, 0), window_end=dt.time(23, 59, 59),
        # Like the bare loop, file no copy in Sent: the bench times the SMTP side only.
        server_saves_sent=True,
    )
    mailbox.set_imap_password(config.sandbox_password)
    mailbox.save()
    return mailbox


def queue_messages(mailbox: Any, recipient: str, count: int) -> None:
    """``count`` queued rows, rendered like real ones (subject, text, unsubscribe link), in bulk."""
    from django.utils import timezone

    from outreach.choices import OutboxStatus
    from outreach.headers import make_message_id
    from outreach.models import OutboundMessage

    now = timezone.now()
    OutboundMessage.objects.bulk_create(
        (
            OutboundMessage(
                mailbox=mailbox, from_address=mailbox.email, from_name=mailbox.from_name, to_address=recipient,
                to_name="Jane Doe", subject=f"A resource for your readers #{n}", text=body(n),
                message_id=make_message_id("linkcrm.test"), status=OutboxStatus.QUEUED, due_at=now,
                unsubscribe_url=f"https://crm.example.com/outreach/unsubscribe/bench-{n}/",
            )
            for n in range(count)
        ),
        batch_size=2000,
    )


def body(n: int) -> str:
    return (f"Hi Jane,\n\nI enjoyed your list of resources (#{n}). Our guide at https://acme.example.com/guide/ "
            "might be a useful addition for your readers.\n\nBest,\nBench Sender\n")


def bare_messages(sender: str, recipient: str, count: int) -> list[bytes]:
    """The same kind of messages, built before the clock starts (the bare loop only sends)."""
    from email import policy
    from email.message import EmailMessage
    from email.utils import formatdate

    from outreach.headers import make_message_id

    raws = []
    for n in range(count):
        message = EmailMessage()
        message["From"], message["To"] = f"Bench Sender <{sender}>", f"Jane Doe <{recipient}>"
        message["Subject"], message["Date"] = f"A resource for your readers #{n}", formatdate()
        message["Message-ID"] = make_message_id("linkcrm.test")
        message.set_content(body(n))
        raws.append(message.as_bytes(policy=policy.SMTP))
    return raws


# --- the two runs -------------------------------------------------------------------------


def run_bare(config: Any, sender: str, recipient: str, raws: list[bytes]) -> float:
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", config.smtp_port, timeout=60) as smtp:
        for raw in raws:
            smtp.sendmail(sender, [recipient], raw)
    return time.perf_counter() - started


def run_outbox(mailbox: Any, count: int) -> tuple[float, int]:
    """Send ``count`` of the queued rows with the real service, batch by batch; (seconds, sent)."""
    from django.conf import settings

    from outreach.services.outbox import outbox_send_batch

    started = time.perf_counter()
    sent = 0
    while sent < count:
        batch = outbox_send_batch(mailbox_id=mailbox.pk, limit=min(settings.LINKCRM_OUTREACH_SEND_BATCH, count - sent))
        if not batch.claimed:
            break
        sent += len(batch.sent)
    return time.perf_counter() - started, sent


def inbox_count(config: Any, address: str) -> int:
    from imapclient import IMAPClient

    with IMAPClient("127.0.0.1", port=config.imap_port, ssl=False, timeout=60) as imap:
        imap.login(address, config.sandbox_password)
        return int(imap.select_folder("INBOX", readonly=True)[b"EXISTS"])


def measure_send(config: Any, count: int, rounds: int) -> tuple[float, float]:
    """(ratio outbox/bare, outbox messages per second), after checking both delivered everything.

    The machine is shared, so load drifts during a run: the two sides take turns in
    ``rounds`` rounds (alternating who goes first) and their times are summed.
    """
    from outreach.choices import OutboxStatus
    from outreach.models import OutboundMessage

    mailbox = bench_mailbox(config)
    ours, theirs = (f"{who}-{uuid.uuid4().hex[:8]}@linkcrm.test" for who in ("ours", "bare"))
    queue_messages(mailbox, ours, count)
    raws = bare_messages(mailbox.email, theirs, count)
    per_round = -(-count // rounds)
    bare_s = outbox_s = 0.0
    sent = 0
    log(f"sending {count} messages each way in {rounds} alternating rounds ...")
    for number in range(rounds):
        chunk = raws[number * per_round:(number + 1) * per_round]
        if number % 2:
            seconds, done = run_outbox(mailbox, len(chunk))
            bare_seconds = run_bare(config, mailbox.email, theirs, chunk)
        else:
            bare_seconds = run_bare(config, mailbox.email, theirs, chunk)
            seconds, done = run_outbox(mailbox, len(chunk))
        bare_s, outbox_s, sent = bare_s + bare_seconds, outbox_s + seconds, sent + done
        log(f"  round {number + 1}: bare {bare_seconds:.2f} s, outbox {seconds:.2f} s ({done} sent)")
    log(f"  bare loop: {bare_s:.2f} s ({count / bare_s:.0f}/s); outbox: {outbox_s:.2f} s ({count / outbox_s:.0f}/s)")
    left = OutboundMessage.objects.filter(mailbox=mailbox).exclude(status=OutboxStatus.SENT).count()
    received = (inbox_count(config, ours), inbox_count(config, theirs))
    if sent != count or left or received != (count, count):
        raise SystemExit(f"bench-outreach: not everything arrived: sent={sent} left={left} received={received}")
    return outbox_s / bare_s, count / outbox_s


def measure_sync_half() -> tuple[str, str]:
    from outreach_sync_bench import measure_sync

    ratio, per_s = measure_sync()
    return f"{ratio:.2f}", f"{per_s:.0f}"


def bench(args: argparse.Namespace) -> None:
    # Claims of 500 rows: the batch size the service is meant to run with under load.
    os.environ.setdefault("LINKCRM_OUTREACH_SEND_BATCH", "500")
    config = stack_config()
    log(f"bench-outreach: stack in {config.data_dir} (PostgreSQL {config.pg_port}, SMTP {config.smtp_port})")
    start_stack(config)
    try:
        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linkcrm.settings")
        django.setup()
        send_ratio, send_per_s = measure_send(config, args.messages, args.rounds)
        verdict = "ok" if send_ratio <= TARGET_SEND_RATIO else f"ABOVE the {TARGET_SEND_RATIO} target"
        log(f"send ratio {send_ratio:.2f} ({verdict})")
        sync_ratio, sync_per_s = measure_sync_half()
    finally:
        if not args.keep:
            stop_stack(config)
    log(f"RESULT outreach send_ratio={send_ratio:.2f} send_per_s={send_per_s:.0f} "
        f"sync_ratio={sync_ratio} sync_per_s={sync_per_s}")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=50, help="turns each side takes")
    parser.add_argument("--keep", action="store_true", help="leave the bench stack running")
    bench(parser.parse_args(argv))


if __name__ == "__main__":
    main(sys.argv[1:])
