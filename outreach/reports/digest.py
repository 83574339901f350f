"""The weekly report digest: opt-in per manager, composed from the report selectors, queued in the outbox.

The digest is an ordinary OutboundMessage without enrollment or prospect, sent from the system
mailbox named by LINKCRM_DIGEST_MAILBOX; the outbox's claim-and-send delivers it like any other
email (DESIGN.md §4.3: every outbound email is a row first). With the setting unset, or naming
no mailbox, nothing is queued and the reports page says why. A digest covers the seven whole
days before the run; a person gets at most one per six days however often the task runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from linkcrm.choices import Role
from linkcrm.permissions import has_role
from outreach.choices import OutboxStatus
from outreach.headers import make_message_id
from outreach.models import Mailbox, OutboundMessage, ReportSubscription
from outreach.reports.formulas import FORMULA_BY_KEY
from outreach.reports.selectors import (
    ReportFilter,
    acquisition,
    funnel,
    links_acquired_list,
    links_lost_list,
    outreach_rates,
    stale_prospects,
)

RESEND_AFTER = timedelta(days=6)


@dataclass(frozen=True)
class DigestSetup:
    """The system mailbox the digest is sent from, or why there is none."""

    mailbox: Mailbox | None
    problem: str


def digest_setup() -> DigestSetup:
    """Which mailbox sends digests; ``problem`` says in words why none does."""
    address = settings.LINKCRM_DIGEST_MAILBOX
    if not address:
        return DigestSetup(None, "LINKCRM_DIGEST_MAILBOX is not set, so no digest is sent.")
    mailbox = Mailbox.objects.filter(email__iexact=address).first()
    if mailbox is None:
        return DigestSetup(None, f"LINKCRM_DIGEST_MAILBOX names {address}, but no mailbox has that address.")
    return DigestSetup(mailbox, "")


def subscription_set(*, user: AbstractBaseUser, weekly_digest: bool) -> ReportSubscription:
    """Turn a person's weekly digest on or off (managers and admins only)."""
    if weekly_digest and not has_role(user, Role.MANAGER):
        raise PermissionError("Only managers and admins receive the weekly digest.")
    subscription, _ = ReportSubscription.objects.update_or_create(
        user=user, defaults={"weekly_digest": weekly_digest}
    )
    return subscription


def digest_period(now: datetime) -> ReportFilter:
    """The seven whole days (in TIME_ZONE) before ``now``'s day, everyone's numbers."""
    end = timezone.localdate(now) - timedelta(days=1)
    return ReportFilter(start=end - timedelta(days=6), end=end)


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}%"


def digest_text(now: datetime) -> tuple[str, str]:
    """Subject and plain-text body: headline numbers, new and lost links, stale prospects."""
    report = digest_period(now)
    total = outreach_rates(report, ()).total
    links = acquisition(report)
    entered = {row.stage: row.entered for row in funnel(report)}
    days = settings.LINKCRM_DIGEST_STALE_DAYS
    stale_total, stale = stale_prospects(report, now=now, days=days, limit=10)
    lines = [
        f"LinkCRM weekly report, {report.start:%d %b} – {report.end:%d %b %Y}", "",
        f"Prospects contacted: {total.contacted}",
        f"Replied: {total.replied} (reply rate {_percent(total.reply_rate)})",
        f"Bounced: {total.bounced} (bounce rate {_percent(total.bounce_rate)})",
        f"Links acquired: {links.acquired} (win rate of the contacted {_percent(total.win_rate)})",
        f"Links lost: {links.lost}",
        f"New prospects: {entered.get('in_progress', 0)}", "",
        "New links:", *_link_lines(links_acquired_list(report)), "",
        "Lost links:", *_link_lines(links_lost_list(report)), "",
        f"Stale prospects (no activity for {days} days): {stale_total}",
        *[f"  {p.domain} ({p.project}, {p.stage}, last activity {p.last_activity:%Y-%m-%d})" for p in stale], "",
        "How these are counted:",
        *[f"  {FORMULA_BY_KEY[key].label}: {FORMULA_BY_KEY[key].text}" for key in ("reply_rate", "bounce_rate",
                                                                                   "win_rate", "stale")],
        "", f"Reports: {settings.LINKCRM_PUBLIC_URL}/reports/",
    ]  # fmt: skip
    subject = f"LinkCRM weekly: {total.contacted} contacted, {total.replied} replied, {links.acquired} links"
    return subject, "\n".join(lines) + "\n"


def _link_lines(events: list) -> list[str]:
    return [f"  {e.domain} ({e.project}) {e.at:%Y-%m-%d} {e.page_url}".rstrip() for e in events] or ["  none"]


def _recipients(now: datetime) -> list[AbstractBaseUser]:
    """Opted-in, active people with an address who were not sent one in the last six days."""
    users = get_user_model().objects.filter(
        is_active=True, report_subscription__weekly_digest=True,
    ).filter(
        Q(report_subscription__last_sent_at__isnull=True) | Q(report_subscription__last_sent_at__lt=now - RESEND_AFTER)
    ).exclude(email="").order_by("pk")  # fmt: skip
    return [user for user in users if has_role(user, Role.MANAGER)]


def digest_queue(now: datetime) -> int:
    """Queue this week's digest for every opted-in manager; returns how many were queued (0 without setup)."""
    setup = digest_setup()
    if setup.mailbox is None:
        return 0
    recipients = _recipients(now)
    if not recipients:
        return 0
    subject, text = digest_text(now)
    for user in recipients:
        _queue_one(setup.mailbox, user, subject, text, now)
    return len(recipients)


def _queue_one(mailbox: Mailbox, user: AbstractBaseUser, subject: str, text: str, now: datetime) -> None:
    # Guarded on last_sent_at so two overlapping runs never queue the same person twice.
    with transaction.atomic():
        claimed = ReportSubscription.objects.filter(user=user).filter(
            Q(last_sent_at__isnull=True) | Q(last_sent_at__lt=now - RESEND_AFTER)
        ).update(last_sent_at=now)
        if claimed != 1:
            return
        OutboundMessage.objects.create(
            mailbox=mailbox, from_address=mailbox.email, from_name=mailbox.from_name or "LinkCRM",
            to_address=user.email, to_name=user.get_full_name(), subject=subject, text=text,
            message_id=make_message_id(mailbox.message_id_domain), status=OutboxStatus.QUEUED, due_at=now,
        )  # fmt: skip
