"""Every figure's definition, in words: shown on the reports page and in docs/reports.md.

Tools in this field disagree on what a "reply rate" is; ours are explicit. Each rate is a
count of *prospects* (never of emails) over a count of prospects, so a three-step sequence
does not triple the denominator and a thread with two replies counts once. The selectors
compute exactly what these texts say; tests/outreach/test_reports_formulas.py holds them to it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Formula:
    """One figure: its key, a short label, and how it is computed."""

    key: str
    label: str
    text: str


def rate(numerator: int, denominator: int) -> float | None:
    """``numerator / denominator`` as a percentage rounded to 0.1, or None when nothing was counted."""
    if denominator <= 0:
        return None
    return round(100.0 * numerator / denominator, 1)


FORMULAS: tuple[Formula, ...] = (
    Formula(
        "contacted", "Prospects contacted",
        "Prospects that were sent at least one email (outbox status Sent) with its send time in the period. "
        "Digest and other system emails, which belong to no prospect, never count.",
    ),
    Formula(
        "reply_rate", "Reply rate",
        "Prospects with a human reply ÷ prospects contacted. A human reply is an inbound message classified "
        "as a reply (never an auto-reply, bounce, complaint or bulk mail) that answers one of the emails "
        "counted in the denominator.",
    ),
    Formula(
        "bounce_rate", "Bounce rate",
        "Prospects with a permanent (hard) bounce ÷ prospects contacted. Only bounces answering an email "
        "counted in the denominator and classified as permanent count; transient delays do not.",
    ),
    Formula(
        "win_rate", "Win rate",
        "Links acquired ÷ prospects contacted: of the prospects contacted in the period, those that have "
        "reached Link Acquired (at any time up to now).",
    ),
    Formula(
        "answered_by",
        "Which email a reply answers",
        "The outbound message the reply's headers point to (In-Reply-To, References or the quoted original); "
        "when the reply was matched to a thread only (token or sender), the latest email of that thread sent "
        "before the reply arrived. Breakdowns by sequence, template, version, step, mailbox and month credit "
        "the reply to that email's group.",
    ),
    Formula(
        "breakdown",
        "Breakdown rows",
        "Each row counts the prospects that were sent an email of that group (sequence, template, template "
        "version, step, mailbox, the prospect's assignee, or the calendar month of sending) in the period. "
        "A prospect sent emails of several groups counts in each, so rows may add up to more than the total.",
    ),
    Formula(
        "entered", "Entered stage",
        "Prospects whose stage log shows a move into the stage in the period (counted once per prospect "
        "even when it moved in twice).",
    ),
    Formula(
        "conversion", "Conversion to the next stage",
        "Of the prospects that entered a stage in the period, the share that later (at or after that entry, "
        "up to now) reached the next stage or any stage after it. Stages in order: In Progress → To Contact → "
        "Contacted → Reply Received → Link Acquired; Rejected is outside the order.",
    ),
    Formula(
        "median_time", "Median time in stage",
        "Median of the days between entering a stage and the prospect's next stage change, over the stays "
        "that began in the period and have ended. Stays still open are left out (their length is unknown).",
    ),
    Formula(
        "velocity", "Acquisition velocity",
        "Prospects moved into Link Acquired per calendar week (Monday start) in the period.",
    ),
    Formula(
        "authority", "Average authority of acquired links",
        "Mean authority score of the prospects that entered Link Acquired in the period, over those whose "
        "authority is known.",
    ),
    Formula(
        "lost", "Links lost",
        "Acquired links whose loss (Lost or Broken on consecutive checks) was confirmed by link monitoring in "
        "the period and is still standing. Shown next to it: prospects moved out of Link Acquired in the period.",
    ),
    Formula(
        "refdomains", "Referring domains over time",
        "Live referring domains of each site at the end of each month: today's live count, minus domains "
        "first seen after that month, plus domains lost after it (dates from the imported exports).",
    ),
    Formula(
        "stale", "Stale prospects",
        "Prospects in To Contact, Contacted or Reply Received whose last activity — stage change, email sent, "
        "email received — is older than LINKCRM_DIGEST_STALE_DAYS days.",
    ),
)

FORMULA_BY_KEY: dict[str, Formula] = {formula.key: formula for formula in FORMULAS}
