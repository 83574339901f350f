"""Which prospects' links are monitored: an ``AcquiredLink`` for each acquired link with its page.

Its own module because both sides need it: the pipeline creates the link the moment a prospect
moves to Link Acquired (``prospects.services.pipeline``), and monitoring, which moves prospects
through the pipeline when it reclaims a lost link, runs it before each sweep as a safety net.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from django.db.models import F, Q
from django.utils import timezone

from linkcrm.lib.domains import DomainError, host_of_url
from prospects.choices import LinkStatus, PipelineKind, Stage
from prospects.models import AcquiredLink, Prospect

logger = logging.getLogger(__name__)


def acquired_links_sync(*, prospect_ids: Iterable[int] | None = None, now: datetime | None = None) -> int:
    """Create or restart the AcquiredLink of each Link Acquired prospect with a linking page.

    Returns how many links were created or restarted. Restarted (status Pending, due ``now``;
    the check history is kept): the page URL differs from the prospect's, or the link was
    reclaimed and the prospect has been moved to Link Acquired again.
    """
    now = now or timezone.now()
    prospects = Prospect.objects.filter(stage=Stage.LINK_ACQUIRED, pipeline=PipelineKind.ACQUISITION).exclude(
        linking_page_url=""
    )
    if prospect_ids is not None:
        prospects = prospects.filter(pk__in=list(prospect_ids))
    fresh = [
        AcquiredLink(prospect_id=pk, page_url=url, host=page_host(url), next_check_at=now)
        for pk, url in prospects.filter(acquired_link__isnull=True).values_list("pk", "linking_page_url")
    ]
    AcquiredLink.objects.bulk_create(fresh, ignore_conflicts=True)
    stale = prospects.filter(
        Q(acquired_link__reclaimed_at__isnull=False) | ~Q(acquired_link__page_url=F("linking_page_url"))
    ).values_list("pk", "linking_page_url")
    for pk, url in stale:
        logger.info("acquired link of prospect %s starts over on %s", pk, url)
        AcquiredLink.objects.filter(prospect_id=pk).update(
            page_url=url, host=page_host(url), status=LinkStatus.PENDING, last_outcome="", failures=0,
            anchor="", rel="", target_url="", next_check_at=now, loss_confirmed_at=None, reclaimed_at=None,
        )  # fmt: skip
    return len(fresh) + len(stale)


def page_host(url: str) -> str:
    """The linking page's host (what the sweep paces its requests by); "" when it has none."""
    try:
        return host_of_url(url)
    except DomainError:
        return ""
