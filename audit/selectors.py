"""Reads for audit: site lists, link-profile aggregates and import progress.

Everything here is set-based: one SQL aggregate per figure, computed where the rows are,
never a Python loop over a site's links. The sizes to keep in mind are a million backlinks
and two hundred thousand referring domains for one site; the indexes this relies on are
declared on the models (``backlink_site_domain``, ``backlink_site_first_seen``,
``backlink_site_lost_at``, ``refdomain_site_backlinks``, ``refdomain_site_domain_unique``).
"Live" means ``lost_at IS NULL`` for links and referring domains alike.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from django.db import connection
from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from audit.anchors import CATEGORY_LABELS, CATEGORY_ORDER, AnchorTerms, classify_anchor
from audit.choices import ImportStatus, LinkType
from audit.models import Backlink, LinkImport, RefDomain, Site

# --- sites ----------------------------------------------------------------------------


def site_list_with_stats() -> QuerySet[Site]:
    """Every site with ``live_backlinks``, ``live_refdomains`` and its latest import's time and status.

    Counts are correlated subqueries on the per-site indexes: cheap for a page of sites.
    """
    live_links = (
        Backlink.objects.filter(site=OuterRef("pk"), lost_at__isnull=True)
        .order_by().values("site").annotate(n=Count("*")).values("n")
    )
    live_domains = (
        RefDomain.objects.filter(site=OuterRef("pk"), lost_at__isnull=True)
        .order_by().values("site").annotate(n=Count("*")).values("n")
    )
    latest = LinkImport.objects.filter(site=OuterRef("pk")).order_by("-created_at", "-id")
    return Site.objects.annotate(
        live_backlinks=Coalesce(Subquery(live_links, output_field=IntegerField()), 0),
        live_refdomains=Coalesce(Subquery(live_domains, output_field=IntegerField()), 0),
        last_import_at=Subquery(latest.values("created_at")[:1]),
        last_import_status=Subquery(latest.values("status")[:1]),
        last_import_id=Subquery(latest.values("id")[:1]),
    ).order_by("domain")


# --- overview -------------------------------------------------------------------------

AUTHORITY_PROVIDERS: dict[str, tuple[str, str]] = {
    # key: (RefDomain column, label)
    "semrush": ("semrush_ascore", "Semrush Authority Score"),
    "ahrefs": ("ahrefs_dr", "Ahrefs Domain Rating"),
    "majestic": ("majestic_tf", "Majestic Trust Flow"),
}
BUCKET_LABELS: tuple[str, ...] = tuple(f"{low}–{low + 9}" for low in range(0, 90, 10)) + ("90–100",)


@dataclass(frozen=True)
class SiteOverview:
    """The headline figures of a site's profile. Rel and type splits count live links only."""

    backlinks: int
    live_backlinks: int
    lost_backlinks: int
    refdomains: int
    live_refdomains: int
    lost_refdomains: int
    follow: int
    nofollow: int
    ugc: int
    sponsored: int
    link_types: dict[str, int]
    # score key -> ten counts, buckets 0–9 … 90–100: live referring domains for the keys of
    # AUTHORITY_PROVIDERS, live links for the keys of PAGE_AUTHORITY (see authority_histograms)
    authority: dict[str, list[int]] = field(default_factory=dict)


def site_overview(site: Site) -> SiteOverview:
    """Totals, live/lost, follow/rel and link-type splits, and authority histograms of one site."""
    live = Q(lost_at__isnull=True)
    links = Backlink.objects.filter(site=site).aggregate(
        total=Count("id"),
        live=Count("id", filter=live),
        # Follow = none of nofollow/ugc/sponsored; the three rel values may overlap on one link.
        follow=Count("id", filter=live & Q(nofollow=False, ugc=False, sponsored=False)),
        nofollow=Count("id", filter=live & Q(nofollow=True)),
        ugc=Count("id", filter=live & Q(ugc=True)),
        sponsored=Count("id", filter=live & Q(sponsored=True)),
        **{f"type_{value}": Count("id", filter=live & Q(link_type=value)) for value in LinkType.values},
    )
    domains = RefDomain.objects.filter(site=site).aggregate(total=Count("id"), live=Count("id", filter=live))
    return SiteOverview(
        backlinks=links["total"], live_backlinks=links["live"], lost_backlinks=links["total"] - links["live"],
        refdomains=domains["total"], live_refdomains=domains["live"],
        lost_refdomains=domains["total"] - domains["live"],
        follow=links["follow"], nofollow=links["nofollow"], ugc=links["ugc"], sponsored=links["sponsored"],
        link_types={value: links[f"type_{value}"] for value in LinkType.values},
        authority=authority_histograms(site),
    )


def authority_histograms(site: Site) -> dict[str, list[int]]:
    """Ten 10-point buckets (100 falls into 90–100) per provider score; scores nobody reported are left out.

    Keys of AUTHORITY_PROVIDERS count live referring domains by their domain score; keys of
    PAGE_AUTHORITY count live links by the linking page's score (all a Semrush Backlinks
    export carries). Two queries: a UNION over the domains, one GROUPING SETS scan of the links.
    """
    histograms = _domain_histograms(site)
    histograms.update(_page_histograms(site))
    return histograms


def _domain_histograms(site: Site) -> dict[str, list[int]]:
    parts = []
    params: list[Any] = []
    for key, (column, _label) in AUTHORITY_PROVIDERS.items():
        # Column names come from the constant above, never from the request.
        parts.append(
            f"SELECT %s AS provider, LEAST({column} / 10, 9) AS bucket, count(*) AS n "  # noqa: S608
            f"FROM audit_refdomain WHERE site_id = %s AND lost_at IS NULL AND {column} IS NOT NULL "
            f"GROUP BY 2"
        )
        params += [key, site.pk]
    histograms: dict[str, list[int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for provider, bucket, count in cursor.fetchall():
            histograms.setdefault(provider, [0] * 10)[max(0, int(bucket))] += count
    return {key: histograms[key] for key in AUTHORITY_PROVIDERS if key in histograms}


PAGE_AUTHORITY: dict[str, tuple[str, str]] = {
    # key: (Backlink column, label)
    "semrush_page": ("semrush_page_ascore", "Semrush Page Authority Score"),
    "ahrefs_page": ("ahrefs_ur", "Ahrefs URL Rating"),
}
_PAGE_HISTOGRAM_SQL = """
    SELECT GROUPING(semrush) = 1 AS is_ahrefs, semrush, ahrefs, count(*) FROM (
        -- LEAST ignores NULLs (LEAST(NULL, 9) = 9): only bucket scores that exist.
        SELECT CASE WHEN semrush_page_ascore IS NOT NULL THEN LEAST(semrush_page_ascore / 10, 9) END
                   AS semrush,
               CASE WHEN ahrefs_ur IS NOT NULL THEN LEAST(ahrefs_ur / 10, 9) END AS ahrefs
        FROM audit_backlink
        WHERE site_id = %s AND lost_at IS NULL AND (semrush_page_ascore IS NOT NULL OR ahrefs_ur IS NOT NULL)
    ) AS scored GROUP BY GROUPING SETS ((semrush), (ahrefs))
"""


def _page_histograms(site: Site) -> dict[str, list[int]]:
    histograms: dict[str, list[int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(_PAGE_HISTOGRAM_SQL, [site.pk])
        for is_ahrefs, semrush, ahrefs, count in cursor.fetchall():
            key, bucket = ("ahrefs_page", ahrefs) if is_ahrefs else ("semrush_page", semrush)
            if bucket is not None:
                histograms.setdefault(key, [0] * 10)[max(0, int(bucket))] += count
    return {key: histograms[key] for key in PAGE_AUTHORITY if key in histograms}


# --- referring domains table ------------------------------------------------------------

REFDOMAIN_SORTS: dict[str, str] = {
    "domain": "domain", "tld": "tld", "backlinks": "backlinks", "follow": "follow_backlinks",
    "semrush": "semrush_ascore", "ahrefs": "ahrefs_dr", "majestic": "majestic_tf",
    "country": "country", "ip": "ip", "first_seen": "first_seen", "last_seen": "last_seen",
    "lost_at": "lost_at", "reported": "reported_backlinks",
}
_NULLABLE = {"semrush_ascore", "ahrefs_dr", "majestic_tf", "ip", "first_seen", "last_seen", "lost_at",
             "reported_backlinks"}
Status = Literal["live", "lost", "all"]


@dataclass(frozen=True)
class RefDomainQuery:
    """Filters, sort and page of the referring-domains table (parsed by the form or the serializer)."""

    q: str = ""
    tld: str = ""
    country: str = ""
    authority: str = "semrush"  # key of AUTHORITY_PROVIDERS the range applies to
    authority_min: int | None = None
    authority_max: int | None = None
    follow_only: bool = False
    status: Status = "live"
    sort: str = "-backlinks"  # a REFDOMAIN_SORTS key, "-" for descending
    page: int = 1
    per_page: int = 50


@dataclass(frozen=True)
class Page:
    """One page of rows with what a pager needs."""

    rows: list[Any]
    total: int
    page: int
    per_page: int

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.num_pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def start_index(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.rows else 0

    @property
    def end_index(self) -> int:
        return self.start_index + len(self.rows) - 1 if self.rows else 0


def refdomain_filtered(site: Site, query: RefDomainQuery) -> QuerySet[RefDomain]:
    """The site's referring domains matching the query's filters, in its sort order."""
    qs = RefDomain.objects.filter(site=site)
    if query.status == "live":
        qs = qs.filter(lost_at__isnull=True)
    elif query.status == "lost":
        qs = qs.filter(lost_at__isnull=False)
    if query.q:
        qs = qs.filter(domain__icontains=query.q.strip().lower())
    if query.tld:
        qs = qs.filter(tld=query.tld.strip().lower().lstrip("."))
    if query.country:
        qs = qs.filter(country=query.country.strip().lower())
    column = AUTHORITY_PROVIDERS.get(query.authority, AUTHORITY_PROVIDERS["semrush"])[0]
    if query.authority_min is not None:
        qs = qs.filter(**{f"{column}__gte": query.authority_min})
    if query.authority_max is not None:
        qs = qs.filter(**{f"{column}__lte": query.authority_max})
    if query.follow_only:
        qs = qs.filter(follow_backlinks__gt=0)
    return qs.order_by(*refdomain_ordering(query.sort))


def refdomain_ordering(sort: str) -> list[Any]:
    """ORDER BY for a sort key: the column, then ``domain`` so pages are stable.

    Nullable columns put NULLs last both ways; NOT NULL ones get no NULLS clause, so
    ``-backlinks`` still matches the ``(site, backlinks DESC)`` index exactly.
    """
    descending = sort.startswith("-")
    column = REFDOMAIN_SORTS.get(sort.lstrip("-"), "backlinks")
    expression = F(column)
    nulls = {"nulls_last": True} if column in _NULLABLE else {}
    ordered = expression.desc(**nulls) if descending else expression.asc(**nulls)
    return [ordered] if column == "domain" else [ordered, "domain"]


def refdomain_page(site: Site, query: RefDomainQuery) -> Page:
    """One page of the referring-domains table (LIMIT/OFFSET; the page number is clamped)."""
    qs = refdomain_filtered(site, query)
    total = qs.count()
    per_page = max(1, min(query.per_page, 500))
    last_page = max(1, -(-total // per_page))
    page = max(1, min(query.page, last_page))
    offset = (page - 1) * per_page
    return Page(rows=list(qs[offset:offset + per_page]), total=total, page=page, per_page=per_page)


# --- anchors ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AnchorRow:
    """One distinct anchor (trimmed, case-folded) with its live links and referring domains."""

    anchor: str
    category: str
    backlinks: int
    refdomains: int = 0

    @property
    def category_label(self) -> str:
        return CATEGORY_LABELS[self.category]


@dataclass(frozen=True)
class CategoryShare:
    category: str
    label: str
    backlinks: int
    anchors: int
    percent: float


@dataclass(frozen=True)
class AnchorProfile:
    """Live links per anchor category, and the most used anchors (optionally of one category)."""

    total_backlinks: int
    distinct_anchors: int
    categories: list[CategoryShare]
    top: list[AnchorRow]


# Grouped twice (anchor × domain, then anchor) so both levels are hash aggregates and the
# referring-domain count of every anchor comes out of the same single pass over the links.
_ANCHOR_GROUPS_SQL = """
    SELECT anchor_key, min(sample), image, sum(n)::int, count(*)::int FROM (
        SELECT lower(btrim(anchor)) AS anchor_key, min(btrim(anchor)) AS sample, link_type = %s AS image,
               source_domain, count(*) AS n
        FROM audit_backlink WHERE site_id = %s AND lost_at IS NULL
        GROUP BY 1, 3, 4
    ) AS per_domain GROUP BY 1, 3
"""


def _anchor_groups(site: Site) -> Iterator[tuple[str, str, bool, int, int]]:
    """One row per distinct (anchor, is-image) of the site's live links: key, sample, image, links, domains.

    Streamed from a server-side cursor, so a site with a million distinct anchors never holds
    them all in memory at once.
    """
    with connection.chunked_cursor() as cursor:
        cursor.execute(_ANCHOR_GROUPS_SQL, [LinkType.IMAGE, site.pk])
        while rows := cursor.fetchmany(5000):
            yield from rows


def anchor_profile(site: Site, *, category: str | None = None, limit: int = 100) -> AnchorProfile:
    """Classify the site's DISTINCT live anchors (never each link) and sum them per category.

    ``top`` holds the ``limit`` anchors with most links (of ``category`` when given), each
    with its count of distinct referring domains.
    """
    terms = AnchorTerms.build(brand_terms=site.brand_terms, money_terms=site.money_terms, domain=site.domain)
    links = dict.fromkeys(CATEGORY_ORDER, 0)
    anchors = dict.fromkeys(CATEGORY_ORDER, 0)
    # A bounded min-heap of (links, key, sample, category, domains): the most used anchors so far.
    top: list[tuple[int, str, str, str, int]] = []
    for key, sample, image, count, domains in _anchor_groups(site):
        kind = classify_anchor(sample, terms=terms, link_type=LinkType.IMAGE if image else LinkType.TEXT)
        links[kind] += count
        anchors[kind] += 1
        if category is None or kind == category:
            item = (count, key, sample, kind, domains)
            if len(top) < limit:
                heapq.heappush(top, item)
            elif item > top[0]:
                heapq.heapreplace(top, item)
    total = sum(links.values())
    shares = [
        CategoryShare(kind, CATEGORY_LABELS[kind], links[kind], anchors[kind],
                      round(100.0 * links[kind] / total, 1) if total else 0.0)
        for kind in CATEGORY_ORDER
    ]
    rows = [AnchorRow(sample, kind, count, domains)
            for count, _key, sample, kind, domains in sorted(top, key=lambda item: (-item[0], item[1]))]
    return AnchorProfile(total, sum(anchors.values()), shares, rows)


# --- new and lost over time ----------------------------------------------------------------

Period = Literal["week", "month"]


@dataclass(frozen=True)
class NewLostSeries:
    """New and lost counts per period, oldest first, zero-filled between first and last event."""

    period: Period
    starts: list[date]
    new: list[int]
    lost: list[int]

    @property
    def labels(self) -> list[str]:
        fmt = "%Y-%m-%d" if self.period == "week" else "%Y-%m"
        return [start.strftime(fmt) for start in self.starts]

    @property
    def rows(self) -> list[tuple[date, int, int]]:
        return list(zip(self.starts, self.new, self.lost, strict=True))


def _period_counts(table: str, column: str, site: Site, period: Period) -> dict[date, int]:
    # table/column come from new_lost_series' fixed arguments, never from the request.
    sql = (
        f"SELECT date_trunc(%s, {column})::date, count(*) FROM {table} "  # noqa: S608
        f"WHERE site_id = %s AND {column} IS NOT NULL GROUP BY 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [period, site.pk])
        return dict(cursor.fetchall())


def _next_period(start: date, period: Period) -> date:
    if period == "week":
        return start + timedelta(days=7)
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)


def new_lost_series(
    site: Site, *, period: Period = "week", of: Literal["backlinks", "refdomains"] = "backlinks",
    max_points: int = 104,
) -> NewLostSeries:
    """Links (or referring domains) first seen and lost per week or month.

    The range runs from the earliest to the latest event, keeping only the last
    ``max_points`` periods so the chart stays readable.
    """
    table = "audit_backlink" if of == "backlinks" else "audit_refdomain"
    new = _period_counts(table, "first_seen", site, period)
    lost = _period_counts(table, "lost_at", site, period)
    if not new and not lost:
        return NewLostSeries(period, [], [], [])
    first, last = min([*new, *lost]), max([*new, *lost])
    starts = [first]
    while starts[-1] < last:
        starts.append(_next_period(starts[-1], period))
    starts = starts[-max_points:]
    return NewLostSeries(period, starts, [new.get(s, 0) for s in starts], [lost.get(s, 0) for s in starts])


# --- TLDs, countries, top pages, IP subnets --------------------------------------------------


@dataclass(frozen=True)
class Share:
    """One slice of a distribution: a value (TLD, country) and its count of live referring domains."""

    value: str
    count: int
    percent: float


def _distribution(site: Site, column: str, limit: int) -> tuple[list[Share], int]:
    """The ``limit`` biggest values of a RefDomain column among live domains, and the count of the rest."""
    rows = list(
        RefDomain.objects.filter(site=site, lost_at__isnull=True)
        .values_list(column).annotate(n=Count("id")).order_by("-n", column)
    )
    total = sum(count for _value, count in rows)
    shares = [Share(value, count, round(100.0 * count / total, 1)) for value, count in rows[:limit]]
    return shares, total - sum(share.count for share in shares)


def tld_distribution(site: Site, *, limit: int = 25) -> tuple[list[Share], int]:
    """Live referring domains per public suffix (``com``, ``co.uk``); empty value = unknown."""
    return _distribution(site, "tld", limit)


def country_distribution(site: Site, *, limit: int = 25) -> tuple[list[Share], int]:
    """Live referring domains per country code (lower case); empty value = unknown."""
    return _distribution(site, "country", limit)


@dataclass(frozen=True)
class TopPage:
    target_url: str
    backlinks: int
    refdomains: int


TopPageSort = Literal["refdomains", "backlinks"]


def top_pages(site: Site, *, sort: TopPageSort = "refdomains", page: int = 1, per_page: int = 50) -> Page:
    """The site's pages by live links and distinct referring domains.

    Grouped twice (page × domain, then page) so both levels are hash aggregates: a
    ``count(DISTINCT …)`` would sort a million rows instead. The total rides along as a
    window count, so one pass over the links serves both the page and the pager.
    """
    order = "refdomains DESC, backlinks DESC" if sort == "refdomains" else "backlinks DESC, refdomains DESC"
    per_page = max(1, min(per_page, 500))
    # ``order`` is one of two constants above, never text from the request.
    sql = (
        "SELECT target_url, sum(n)::int AS backlinks, count(*)::int AS refdomains, count(*) OVER () FROM ("  # noqa: S608
        "  SELECT target_url, source_domain, count(*) AS n FROM audit_backlink"
        "  WHERE site_id = %s AND lost_at IS NULL GROUP BY 1, 2) AS per_domain"
        f" GROUP BY 1 ORDER BY {order}, target_url LIMIT %s OFFSET %s"
    )
    page = max(1, page)
    with connection.cursor() as cursor:
        cursor.execute(sql, [site.pk, per_page, (page - 1) * per_page])
        fetched = cursor.fetchall()
        if not fetched and page > 1:  # past the end: show the last page instead
            cursor.execute("SELECT count(DISTINCT target_url) FROM audit_backlink "
                           "WHERE site_id = %s AND lost_at IS NULL", [site.pk])
            last = max(1, -(-cursor.fetchone()[0] // per_page))  # < page, so this recursion ends
            return top_pages(site, sort=sort, page=last, per_page=per_page)
    total = fetched[0][3] if fetched else 0
    rows = [TopPage(url, links, domains) for url, links, domains, _total in fetched]
    return Page(rows=rows, total=total, page=page, per_page=per_page)


@dataclass(frozen=True)
class Subnet:
    subnet: str
    domains: int
    sample: list[str]


@dataclass(frozen=True)
class IpDiversity:
    """How many live referring domains share a /24 (IPv4) or /48 (IPv6) network."""

    domains_with_ip: int
    distinct_ips: int
    distinct_subnets: int
    crowded: list[Subnet]  # subnets holding at least ``min_domains`` domains, biggest first


_SUBNET = "network(set_masklen(ip, CASE WHEN family(ip) = 4 THEN 24 ELSE 48 END))"


def ip_diversity(site: Site, *, min_domains: int = 2, limit: int = 100) -> IpDiversity:
    """Group live referring domains by network with PostgreSQL's inet functions."""
    where = "site_id = %s AND lost_at IS NULL AND ip IS NOT NULL"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), count(DISTINCT ip), count(DISTINCT {_SUBNET}) FROM audit_refdomain "  # noqa: S608
            f"WHERE {where}", [site.pk],
        )
        with_ip, ips, subnets = cursor.fetchone()
        cursor.execute(
            f"SELECT {_SUBNET}::text, count(*), (array_agg(domain ORDER BY domain))[1:5] "  # noqa: S608
            f"FROM audit_refdomain WHERE {where} GROUP BY 1 HAVING count(*) >= %s "
            f"ORDER BY 2 DESC, 1 LIMIT %s",
            [site.pk, min_domains, limit],
        )
        crowded = [Subnet(subnet, count, list(sample)) for subnet, count, sample in cursor.fetchall()]
    return IpDiversity(with_ip, ips, subnets, crowded)


# --- imports ----------------------------------------------------------------------------------


def import_list_for_site(site: Site) -> QuerySet[LinkImport]:
    """The site's imports, newest first, with who started them."""
    return LinkImport.objects.filter(site=site).select_related("created_by").order_by("-created_at", "-id")


def import_get(*, site_pk: int, pk: int) -> LinkImport:
    """One import of one site (``DoesNotExist`` when the pair does not match)."""
    return LinkImport.objects.select_related("site", "created_by").get(site_id=site_pk, pk=pk)


ACTIVE_STATUSES = frozenset({ImportStatus.QUEUED, ImportStatus.RUNNING})


@dataclass(frozen=True)
class ImportProgress:
    """What the progress bar shows. ``percent`` is by bytes, the only measure known up front."""

    status: str
    status_label: str
    active: bool
    percent: float | None
    rows_read: int
    rows_per_second: float | None
    eta_seconds: int | None
    elapsed_seconds: float | None


def import_progress(link_import: LinkImport, *, now: datetime) -> ImportProgress:
    """Progress of an import at ``now``: share of bytes read, rows per second and the time left."""
    active = link_import.status in ACTIVE_STATUSES
    size, done = link_import.file_size, link_import.bytes_read
    percent = min(100.0, round(100.0 * done / size, 1)) if size else None
    if link_import.status == ImportStatus.SUCCEEDED:
        percent = 100.0
    end = now if active or link_import.finished_at is None else link_import.finished_at
    elapsed = (end - link_import.started_at).total_seconds() if link_import.started_at else None
    rate = link_import.rows_read / elapsed if elapsed and elapsed > 0 else None
    eta = None
    if active and elapsed and done and size and done < size:
        eta = int(round(elapsed * (size - done) / done))
    return ImportProgress(
        status=link_import.status, status_label=link_import.get_status_display(), active=active,
        percent=percent, rows_read=link_import.rows_read,
        rows_per_second=round(rate, 1) if rate is not None else None, eta_seconds=eta,
        elapsed_seconds=round(elapsed, 1) if elapsed is not None else None,
    )


def import_row_errors(link_import: LinkImport) -> list[dict[str, Any]]:
    """The import's row errors sorted by line: ``{line, field, message}`` each."""
    errors = [e for e in (link_import.row_errors or []) if isinstance(e, dict)]
    return sorted(errors, key=lambda e: (e.get("line") or 0, str(e.get("field", ""))))


@dataclass(frozen=True)
class UploadPreview:
    """The header and first rows of an uploaded file, for the column-mapping step."""

    header: list[str]
    rows: list[list[str]]
    delimiter: str
    encoding: str


PREVIEW_ROWS = 5


def upload_preview(stream: Any, *, rows: int = PREVIEW_ROWS) -> UploadPreview:
    """Read only the header and the first ``rows`` rows (raises ImportRefused when unreadable).

    Goes through the importers' reader, so encodings, delimiters and compression are sniffed
    exactly as the import itself will.
    """
    from django.conf import settings

    from audit.importers.reader import open_export

    limit = getattr(settings, "LINKCRM_IMPORT_MAX_DECOMPRESSED_BYTES", 4 * 1024**3)
    with open_export(stream, max_bytes=limit) as reader:
        first: list[list[str]] = []
        for _line, cells in reader:
            first.append(cells)
            if len(first) >= rows:
                break
        return UploadPreview(reader.header, first, reader.delimiter_name, reader.encoding)
