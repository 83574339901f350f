"""Reads of the toxicity audit, the review and the disavow list (pages and API share them).

A link's status is the latest decision on the link itself or on its referring domain (the
more recent wins), "For review" when there is none. Findings come from the stored scores
(``audit_linktoxicity`` / ``audit_refdomaintoxicity``), worst first; the status of each row
is looked up per row through the ``review_site_domain_recent`` index (decisions are few).
Links scoring 0 have no score row and are not listed among link findings (their domain is).
"""

# SQL here is assembled from constants and validated column names only; values are bound.
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection

from audit import toxicity
from audit.choices import ReviewStatus, ToxicityBand
from audit.models import DisavowEntry, DisavowVersion, ReviewDecision, Site, ToxicityRun
from audit.selectors import Page

PER_PAGE = 50


@dataclass(frozen=True)
class FindingsQuery:
    """Filters of the findings table: ``by`` links or domains, band, status, marker, text, page."""

    by: str = "domains"
    band: str = ""
    status: str = ""
    marker: str = ""
    q: str = ""
    page: int = 1
    per_page: int = PER_PAGE


@dataclass(frozen=True)
class Finding:
    """One scored link (``backlink_id`` set) or referring domain, with its markers and status."""

    domain: str
    score: int
    markers: list[toxicity.Marker]
    status: str
    backlink_id: int | None = None
    source_url: str = ""
    target_url: str = ""
    anchor: str = ""
    nofollow: bool = False
    lost_at: date | None = None
    links: int = 1
    toxic_links: int = 0

    @property
    def band(self) -> ToxicityBand | None:
        return toxicity.band_of(self.score)

    @property
    def status_label(self) -> str:
        return ReviewStatus(self.status).label


_DOMAIN_STATUS = (
    "COALESCE((SELECT d.status FROM audit_reviewdecision d WHERE d.site_id = %(site)s AND d.domain = t.domain"
    " AND d.backlink_id IS NULL ORDER BY d.decided_at DESC, d.id DESC LIMIT 1), 'for_review')"
)
_LINK_STATUS = (
    "COALESCE((SELECT d.status FROM audit_reviewdecision d WHERE d.site_id = %(site)s"
    " AND d.domain = b.source_domain AND (d.backlink_id IS NULL OR d.backlink_id = b.id)"
    " ORDER BY d.decided_at DESC, d.id DESC LIMIT 1), 'for_review')"
)


def _filters(query: FindingsQuery, *, domain_column: str, status_sql: str) -> tuple[list[str], dict[str, Any]]:
    where = ["t.site_id = %(site)s"]
    params: dict[str, Any] = {}
    if query.band in ToxicityBand.values:
        params["lo"], params["hi"] = toxicity.band_range(query.band)
        where.append("t.score BETWEEN %(lo)s AND %(hi)s")
    if query.marker in toxicity.MARKERS_BY_CODE:
        params["mask"] = toxicity.MARKERS_BY_CODE[query.marker].mask
        where.append("t.markers & %(mask)s <> 0")
    if query.q:
        params["q"] = f"%{query.q.strip().lower()}%"
        where.append(f"{domain_column} LIKE %(q)s")
    if query.status in ReviewStatus.values:
        params["status"] = query.status
        where.append(f"{status_sql} = %(status)s")
    return where, params


def findings_page(site: Site, query: FindingsQuery) -> Page:
    """One page of scored referring domains (``by="domains"``) or links, worst first."""
    if query.by == "links":
        return _link_page(site, query)
    where, params = _filters(query, domain_column="t.domain", status_sql=_DOMAIN_STATUS)
    params.update(site=site.id, limit=query.per_page, offset=(query.page - 1) * query.per_page)
    sql = (
        f"SELECT t.domain, t.score, t.markers, {_DOMAIN_STATUS}, t.links, t.toxic_links, count(*) OVER ()"
        f" FROM audit_refdomaintoxicity t WHERE {' AND '.join(where)}"
        " ORDER BY t.score DESC, t.domain LIMIT %(limit)s OFFSET %(offset)s"
    )
    rows = _fetch(sql, params)
    findings = [
        Finding(domain=r[0], score=r[1], markers=toxicity.markers_of(r[2]), status=r[3], links=r[4], toxic_links=r[5])
        for r in rows
    ]  # fmt: skip
    return Page(rows=findings, total=_total(rows, site, query), page=query.page, per_page=query.per_page)


def _link_page(site: Site, query: FindingsQuery) -> Page:
    where, params = _filters(query, domain_column="b.source_domain", status_sql=_LINK_STATUS)
    params.update(site=site.id, limit=query.per_page, offset=(query.page - 1) * query.per_page)
    sql = (
        f"SELECT b.source_domain, t.score, t.markers, {_LINK_STATUS}, b.id, b.source_url, b.target_url, b.anchor,"
        " b.nofollow, b.lost_at, count(*) OVER ()"
        " FROM audit_linktoxicity t JOIN audit_backlink b ON b.id = t.backlink_id AND b.site_id = t.site_id"
        f" WHERE {' AND '.join(where)} ORDER BY t.score DESC, t.backlink_id LIMIT %(limit)s OFFSET %(offset)s"
    )
    rows = _fetch(sql, params)
    findings = [
        Finding(domain=r[0], score=r[1], markers=toxicity.markers_of(r[2]), status=r[3], backlink_id=r[4],
                source_url=r[5], target_url=r[6], anchor=r[7], nofollow=r[8], lost_at=r[9])
        for r in rows
    ]  # fmt: skip
    return Page(rows=findings, total=_total(rows, site, query), page=query.page, per_page=query.per_page)


def _fetch(sql: str, params: dict[str, Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _total(rows: list[tuple], site: Site, query: FindingsQuery) -> int:
    """The window count of the first row; a page past the end has none, so count again from page 1."""
    if rows:
        return rows[0][-1]
    if query.page > 1:
        return findings_page(site, FindingsQuery(**{**query.__dict__, "page": 1})).total
    return 0


@dataclass(frozen=True)
class AuditSummary:
    """Counts per band of links and domains, and the latest scoring run."""

    links: dict[str, int]
    domains: dict[str, int]
    run: ToxicityRun | None


def audit_summary(site: Site) -> AuditSummary:
    """Links and referring domains per band (links scoring 0 have no row: counted from the domains)."""
    with connection.cursor() as cursor:
        counts = []
        for table in ("audit_linktoxicity", "audit_refdomaintoxicity"):
            cursor.execute(
                f"SELECT count(*) FILTER (WHERE score >= %(t)s), count(*) FILTER (WHERE score >= %(p)s"
                f" AND score < %(t)s), count(*) FILTER (WHERE score < %(p)s) FROM {table} WHERE site_id = %(site)s",
                {"t": toxicity.toxic_min(), "p": toxicity.potential_min(), "site": site.id},
            )
            counts.append(dict(zip(ToxicityBand.values, cursor.fetchone(), strict=True)))
        cursor.execute("SELECT COALESCE(sum(links), 0) FROM audit_refdomaintoxicity WHERE site_id = %s", [site.id])
        scored = cursor.fetchone()[0]
    links = counts[0]
    links[ToxicityBand.NON_TOXIC] = scored - links[ToxicityBand.TOXIC] - links[ToxicityBand.POTENTIAL]
    return AuditSummary(links=links, domains=counts[1], run=latest_run(site))


def latest_run(site: Site) -> ToxicityRun | None:
    return ToxicityRun.objects.filter(site=site).order_by("-created_at", "-id").first()


def decision_history(site: Site, *, domain: str | None = None, limit: int = 200) -> list[ReviewDecision]:
    """The site's decisions, newest first (one domain's, links included, when given)."""
    decisions = ReviewDecision.objects.filter(site=site).select_related("decided_by")
    if domain:
        decisions = decisions.filter(domain=domain)
    return list(decisions.order_by("-decided_at", "-id")[:limit])


def disavow_entries(site: Site, *, removed: bool = False) -> list[DisavowEntry]:
    """The list as it stands (or the entries taken off it, newest first)."""
    entries = DisavowEntry.objects.filter(site=site, removed_at__isnull=not removed).select_related(
        "added_by", "removed_by"
    )
    return list(entries.order_by("-removed_at") if removed else entries.order_by("position", "id"))


def disavow_versions(site: Site) -> list[DisavowVersion]:
    return list(DisavowVersion.objects.filter(site=site).select_related("created_by").order_by("-number"))


def disavow_version(site: Site, number: int) -> DisavowVersion:
    """One stored version; raises DisavowVersion.DoesNotExist."""
    return DisavowVersion.objects.get(site=site, number=number)
