"""The demo workspace's toxicity audit and disavow history (called by ``audit.demo.load``).

Every demo site is scored. The demo's own site also gets a worked review: its worst
referring domains disavowed with reasons, one whitelisted, one to monitor, and a disavow
history of two exported versions (the second adds two domains and takes one back off), so
the Disavow tab shows versions to compare. Decisions are by nobody in particular (no user):
the demo has no people of its own. Idempotent: a site that already has versions is left alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from audit import review, toxicity
from audit.choices import ReviewStatus
from audit.models import DisavowEntry, DisavowVersion, RefDomainToxicity, Site

FIRST_BATCH = 4
SECOND_BATCH = 2


def load(sites: Sequence[Site]) -> None:
    """Score every site; give the first (the demo's own site) its review and disavow history."""
    for site in sites:
        toxicity.toxicity_score_site(site=site)
    if sites and not DisavowVersion.objects.filter(site=sites[0]).exists():
        _review_history(sites[0])


def _worst(site: Site, count: int, *, skip: int = 0) -> list[str]:
    rows = RefDomainToxicity.objects.filter(site=site).order_by("-score", "domain")[skip : skip + count]
    return list(rows.values_list("domain", flat=True))


def _review_history(site: Site) -> None:
    first = _worst(site, FIRST_BATCH)
    review.review_decide(site=site, status=ReviewStatus.DISAVOWED, user=None, domains=first,
                         reason="Demo: link farm pages with spam words and machine-made names")  # fmt: skip
    later = _worst(site, SECOND_BATCH + 2, skip=FIRST_BATCH)
    if len(later) >= 2:
        review.review_decide(site=site, status=ReviewStatus.WHITELISTED, user=None, domains=later[-2:-1],
                             reason="Demo: a real partner blog; the sitewide link is in its blogroll")  # fmt: skip
        review.review_decide(site=site, status=ReviewStatus.MONITOR, user=None, domains=later[-1:],
                             reason="Demo: low authority but on topic; look again after the next import")  # fmt: skip
    review.disavow_export(site=site, user=None)
    review.review_decide(site=site, status=ReviewStatus.DISAVOWED, user=None, domains=later[:SECOND_BATCH],
                         reason="Demo: found in the second review (spam TLD, outbound link lists)")  # fmt: skip
    kept = DisavowEntry.objects.filter(site=site, removed_at__isnull=True).order_by("id").first()
    if kept is not None:
        review.disavow_entry_remove(site=site, entry_id=kept.id, user=None,
                                    reason="Demo: the site cleaned up; no longer worth disavowing")  # fmt: skip
    review.disavow_export(site=site, user=None)
