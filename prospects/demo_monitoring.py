"""Check history for the demo pipeline's acquired links, written without fetching anything.

Each Link Acquired prospect of the demo project gets weekly checks over the last month,
applied through ``acquired_link_record`` with made-up fetch results: most links stay active,
some changed (a nofollow appeared), and one is lost, confirmed, so the dashboard and the
prospect page show the reclaim offer. Demo projects are never swept (their domains are real
or invented sites nobody asked us to visit).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from prospects.choices import LinkStatus, Stage
from prospects.linkcheck import CheckResult, FoundLink
from prospects.models import AcquiredLink, Project, TargetPage
from prospects.services.acquired import acquired_links_sync
from prospects.services.monitoring import acquired_link_record

AUTOMATION = "demo.seed"
WEEKS = 4


def load(project: Project, *, now: datetime) -> int:
    """Write the demo check history of ``project``; returns how many links got one."""
    target = _target(project)
    if not target:
        return 0
    prospects = project.prospects.filter(stage=Stage.LINK_ACQUIRED).values_list("pk", flat=True)
    acquired_links_sync(prospect_ids=list(prospects), now=now - timedelta(weeks=WEEKS + 1))
    links = list(AcquiredLink.objects.filter(prospect__project=project, status=LinkStatus.PENDING).order_by("id"))
    for index, link in enumerate(links):
        for week, result in enumerate(_story(index, link.page_url, target)):
            when = now - timedelta(weeks=WEEKS - week, hours=index)
            acquired_link_record(link_id=link.pk, result=result, checked_at=when, automation=AUTOMATION, alert=False)
    return len(links)


def _target(project: Project) -> str:
    page = TargetPage.objects.filter(project=project).order_by("id").values_list("url", flat=True).first()
    if page:
        return page
    return f"https://{project.site.domain}/" if project.site_id else ""


def _story(index: int, page_url: str, target: str) -> list[CheckResult]:
    """Live every week; every third link gains a nofollow in the last check; the second one disappears for good."""
    live = CheckResult(
        outcome=LinkStatus.ACTIVE, url=page_url, final_url=page_url, http_status=200, matching_links=1,
        link=FoundLink(href=target, anchor="outdoor gear that lasts"),
    )  # fmt: skip
    nofollow = CheckResult(
        outcome=LinkStatus.ACTIVE, url=page_url, final_url=page_url, http_status=200, matching_links=1,
        link=FoundLink(href=target, anchor="outdoor gear that lasts", rel=("nofollow",)),
    )  # fmt: skip
    gone = CheckResult(outcome=LinkStatus.LOST, url=page_url, final_url=page_url, http_status=200)
    if index == 1:
        return [live, gone, gone, gone]
    if index % 3 == 2:
        return [live, live, live, nofollow]
    return [live] * WEEKS
