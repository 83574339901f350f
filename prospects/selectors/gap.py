"""The backlink gap of a project: for every referring domain of the compared sites, who it links to.

The compared sites are the project's own site ("you", optional) and its competitors (any
number). A referring domain is a registrable domain (``www.`` and subdomains are folded by
the audit loader); it *links to* a site when the site has a live ``audit_refdomain`` row for
it (``lost_at IS NULL``): a row the loader aggregated from backlinks, or one a referring-
domains or gap export stated. Its link count for that site is the backlinks we hold, or the
provider's reported count when we hold none (a referring-domains export).

Tabs (``n`` competitors; a tab needs at least one competitor where it names them):
- Best: links to every competitor, not to you.
- Weak: links to you fewer times than to at least one competitor.
- Strong: links to you and to no competitor.
- Shared: links to every compared site.
- Unique: links to exactly one compared site.
- Missing: links to at least N competitors (``min_competitors``, default 2), not to you.
- All: every referring domain of any compared site.

Authority is one number per domain: the highest over the compared sites of the first
provider score known for it (Semrush Authority Score, else Ahrefs DR, else Majestic TF).

How it stays fast at 5 sites × 1M backlinks (~200k domains, ~500k live refdomain rows):
everything is computed from ``audit_refdomain`` (the loader keeps it per site and domain),
never from ``audit_backlink``. The covering partial index ``refdomain_gap_live`` (domain,
site) holds every column read, so one index-only scan delivers the rows in domain order and a
streaming GROUP BY folds them without a hash table; the planner would rather hash ~200k text
keys (2-3x slower), so the gap's queries run with ``enable_hashagg`` off, JIT off (the plan
is too short for compiling to pay) and a larger ``work_mem`` for the page's sort, all local to
their transaction. Tab counts and the page's domains come from ONE pass: every tab's count is
a FILTERed count over the grouped rows, and the page is a slice of an ordered ``array_agg``
of the current tab. Only the page's 50 domains are then read again, with per-site detail.
"""

# SQL here is assembled from constants, column names and ints only; every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from django.db import connection, models, transaction

from audit.models import SEMRUSH_TOXIC_MIN, Site
from audit.selectors import Page
from prospects.choices import PipelineKind, SuppressionKind
from prospects.models import Project

DEFAULT_MISSING_N = 2
DEFAULT_SORT = "-authority"
MAX_PER_PAGE = 500
EXPORT_CHUNK = 2000
_PLANNER = (("enable_hashagg", "off"), ("jit", "off"), ("work_mem", "64MB"))
_NO_SITE = -1  # no Site has this id: "you" is absent from every row


class GapTab(models.TextChoices):
    BEST = "best", "Best"
    WEAK = "weak", "Weak"
    STRONG = "strong", "Strong"
    SHARED = "shared", "Shared"
    UNIQUE = "unique", "Unique"
    MISSING = "missing", "Missing"
    ALL = "all", "All"


# sort key → (grouped column, what it sorts). "site<id>" sorts by one compared site's links.
SORTS: dict[str, str] = {
    "domain": "domain", "authority": "authority", "competitors": "comps", "links": "links",
    "follow": "follow", "first_seen": "first_seen", "tld": "tld", "country": "country", "you": "you",
}  # fmt: skip


@dataclass(frozen=True)
class GapQuery:
    """Tab, filters, sort and page of the gap (parsed by prospects.forms.GapFilterForm)."""

    tab: str = GapTab.BEST
    q: str = ""
    tld: str = ""
    country: str = ""
    authority_min: int | None = None
    authority_max: int | None = None
    follow_only: bool = False
    min_competitors: int | None = None
    hide_prospects: bool = True
    hide_toxic: bool = True
    hide_suppressed: bool = True
    sort: str = DEFAULT_SORT
    page: int = 1
    per_page: int = 50


@dataclass(frozen=True)
class GapSites:
    """The compared sites: yours (or None) first, then the competitors by domain."""

    you: Site | None
    competitors: tuple[Site, ...]

    @property
    def all(self) -> tuple[Site, ...]:
        return ((self.you,) if self.you else ()) + self.competitors

    @property
    def ids(self) -> list[int]:
        return [site.id for site in self.all]

    @property
    def you_id(self) -> int:
        return self.you.id if self.you else _NO_SITE


@dataclass(frozen=True)
class GapRow:
    """One referring domain of the gap with its links per compared site (None: no link)."""

    domain: str
    authority: int | None
    links_to_you: int | None
    competitors_linked: int
    links: int
    follow: int
    first_seen: date | None
    tld: str
    country: str
    site_links: dict[int, int] = field(default_factory=dict)  # site id → links
    is_prospect: bool = False

    def cells(self, sites: GapSites) -> list[int | None]:
        """Links per compared site, in ``sites.all`` order."""
        return [self.site_links.get(site.id) for site in sites.all]


@dataclass(frozen=True)
class GapPage:
    """One page of a tab, every tab's count under the same filters, and the compared sites."""

    page: Page
    counts: dict[str, int]
    sites: GapSites
    query: GapQuery


def gap_sites(project: Project) -> GapSites:
    """The project's site and competitors (a competitor equal to the site is not compared twice)."""
    you = project.site if project.site_id else None
    competitors = project.competitors.exclude(id=project.site_id or _NO_SITE).order_by("domain")
    return GapSites(you=you, competitors=tuple(competitors))


# --- SQL pieces --------------------------------------------------------------------------

_LINKS = "CASE WHEN r.backlinks > 0 THEN r.backlinks ELSE COALESCE(r.reported_backlinks, 0) END"
_AGGREGATES: dict[str, str] = {
    "you": f"max({_LINKS}) FILTER (WHERE r.site_id = %(you)s)",
    "comps": "count(*) FILTER (WHERE r.site_id <> %(you)s)",
    "comp_max": f"max({_LINKS}) FILTER (WHERE r.site_id <> %(you)s)",
    "links": f"sum({_LINKS})",
    "follow": "sum(r.follow_backlinks)",
    "authority": "max(COALESCE(r.semrush_ascore, r.ahrefs_dr, r.majestic_tf))",
    "first_seen": "min(r.first_seen)",
    "tld": "min(r.tld)",
    "country": "max(NULLIF(r.country, ''))",
}
# Domains are lower-case ASCII (punycode): byte order is alphabetical order, and comparing bytes
# is several times cheaper than the database collation when a sort is mostly ties (authority).
_BY_DOMAIN = 'g.domain COLLATE "C"'
_DETAIL_COLUMNS = ("authority", "you", "comps", "links", "follow", "first_seen", "tld", "country")


def _site_links_sql(site_id: int) -> str:
    return f"max({_LINKS}) FILTER (WHERE r.site_id = {int(site_id)})"


def _tab_sql(tab: str, sites: GapSites, query: GapQuery) -> str:
    """The condition on a grouped row (``g``) for being in ``tab``."""
    n = len(sites.competitors)
    has_you = sites.you is not None
    conditions = {
        GapTab.BEST: f"g.you IS NULL AND g.comps = {n}" if n else "FALSE",
        GapTab.WEAK: "g.you < g.comp_max",
        GapTab.STRONG: "g.you IS NOT NULL AND g.comps = 0",
        GapTab.SHARED: _shared_sql(n, has_you),
        GapTab.UNIQUE: "(g.you IS NOT NULL)::int + g.comps = 1",
        GapTab.MISSING: f"g.you IS NULL AND g.comps >= {int(query.min_competitors or DEFAULT_MISSING_N)}",
        GapTab.ALL: "TRUE",
    }
    return conditions[GapTab(tab)]


def _shared_sql(n: int, has_you: bool) -> str:
    if not n:
        return "FALSE"
    return f"g.you IS NOT NULL AND g.comps = {n}" if has_you else f"g.comps = {n}"


def toxic_filter_sql() -> str:
    """Hide domains flagged toxic or disavowed. "Toxic" is a provider flag on any of the
    domain's links to the compared sites: Ahrefs "is spam", or a Semrush Backlink Audit toxic
    score in Semrush's toxic band. "Disavowed" is a whole-domain entry (``domain:<domain>``)
    on the disavow list of the project's own site (audit.models.DisavowEntry, index
    ``disavow_active_domain``)."""
    return (
        "NOT EXISTS (SELECT 1 FROM audit_backlink b WHERE b.site_id = ANY(%(sites)s)"
        " AND b.source_domain = g.domain"
        # the very predicate of the partial index audit.Backlink "backlink_gap_toxic": no scan
        f" AND (b.ahrefs_is_spam OR b.semrush_toxic_score >= {SEMRUSH_TOXIC_MIN}))"
        " AND NOT EXISTS (SELECT 1 FROM audit_disavowentry d WHERE d.site_id = %(you)s"
        " AND d.domain = g.domain AND d.value = g.domain AND d.kind = 'domain' AND d.removed_at IS NULL)"
    )


def _hidden_sql(query: GapQuery) -> list[str]:
    hidden = []
    if query.hide_prospects:
        hidden.append(
            "NOT EXISTS (SELECT 1 FROM prospects_prospect p WHERE p.project_id = %(project)s"
            f" AND p.pipeline = '{PipelineKind.ACQUISITION}' AND p.domain = g.domain)"
        )
    if query.hide_suppressed:
        hidden.append(
            f"NOT EXISTS (SELECT 1 FROM prospects_suppression s WHERE s.kind = '{SuppressionKind.DOMAIN}'"
            " AND s.value = g.domain AND (s.project_id IS NULL OR s.project_id = %(project)s))"
        )
    if query.hide_toxic:
        hidden.append(toxic_filter_sql())
    return hidden


def _filters(query: GapQuery) -> tuple[list[str], list[str], set[str]]:
    """(conditions on refdomain rows, conditions on grouped rows, aggregates they need)."""
    inner, outer, needs = [], [], set()
    if query.tld:
        inner.append("r.tld = %(tld)s")  # a property of the domain: exact before grouping
    if query.q:
        inner.append("r.domain LIKE %(q)s")
    if query.min_competitors:  # every tab's count, whichever tab is shown (Missing also takes it as N)
        outer.append("g.comps >= %(min_competitors)s")
    if query.authority_min is not None:
        outer.append("g.authority >= %(authority_min)s")
        needs.add("authority")
    if query.authority_max is not None:
        outer.append("g.authority <= %(authority_max)s")
        needs.add("authority")
    if query.follow_only:
        outer.append("g.follow > 0")
        needs.add("follow")
    if query.country:
        outer.append("g.country = %(country)s")
        needs.add("country")
    return inner, outer + _hidden_sql(query), needs


def is_sort_key(sort: str, sites: GapSites) -> bool:
    """A column of SORTS or ``site<id>`` of a compared site, optionally prefixed "-" (descending)."""
    key = sort.removeprefix("-")
    return key in SORTS or (key.startswith("site") and key[4:].isdigit() and int(key[4:]) in sites.ids)


def _sort(query: GapQuery, sites: GapSites) -> tuple[str, dict[str, str]]:
    """(ORDER BY over grouped rows, the aggregate column it needs, if any) for ``query.sort``."""
    sort = query.sort if is_sort_key(query.sort, sites) else DEFAULT_SORT
    key = sort.lstrip("-")
    direction = "DESC" if sort.startswith("-") else "ASC"
    if key.startswith("site"):
        site_links = _site_links_sql(int(key[4:]))
        return f"g.sort_site {direction} NULLS LAST, {_BY_DOMAIN}", {"sort_site": site_links}
    column = SORTS[key]
    if column == "domain":
        return f"{_BY_DOMAIN} {direction}", {}
    return f"g.{column} {direction} NULLS LAST, {_BY_DOMAIN}", {column: _AGGREGATES[column]}


def _params(project: Project, sites: GapSites, query: GapQuery) -> dict[str, Any]:
    like = query.q.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return {
        "project": project.id, "sites": sites.ids, "you": sites.you_id,
        "tld": query.tld.strip().lower().lstrip("."), "q": f"%{like}%",
        "country": query.country.strip().lower(), "min_competitors": query.min_competitors,
        "authority_min": query.authority_min, "authority_max": query.authority_max,
    }  # fmt: skip


def _grouped_sql(columns: dict[str, str], inner: list[str]) -> str:
    select = ", ".join(f"{expression} AS {name}" for name, expression in columns.items())
    where = "".join(f" AND {condition}" for condition in inner)
    return (
        f"SELECT r.domain, {select} FROM audit_refdomain r"
        f" WHERE r.site_id = ANY(%(sites)s) AND r.lost_at IS NULL{where} GROUP BY r.domain"
    )


@contextmanager
def _gap_planner() -> Iterator[Any]:
    """A cursor inside a transaction whose planner settings suit the gap (see the module doc).

    SET LOCAL lasts to the end of the transaction; when the caller already had one open the
    old values are put back, and a failure rolls the savepoint (and the settings) back.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"current_setting('{name}')" for name, _ in _PLANNER))
        old = cursor.fetchone()
        settings = ", ".join(f"set_config('{name}', '{value}', true)" for name, value in _PLANNER)
        cursor.execute(f"SELECT {settings}")
        yield cursor
        cursor.execute(
            "SELECT " + ", ".join(f"set_config('{name}', %s, true)" for name, _ in _PLANNER), list(old)
        )


# --- reads -------------------------------------------------------------------------------


def gap_page(project: Project, query: GapQuery) -> GapPage:
    """One page of ``query.tab`` with every tab's count; the page number is clamped."""
    sites = gap_sites(project)
    per_page = max(1, min(query.per_page, MAX_PER_PAGE))
    query = replace(query, per_page=per_page, page=max(1, query.page))
    if not sites.ids:
        empty = Page(rows=[], total=0, page=1, per_page=per_page)
        return GapPage(empty, dict.fromkeys(GapTab.values, 0), sites, query)
    counts, domains = _counts_and_page(project, sites, query)
    total = counts[query.tab]
    last_page = max(1, -(-total // per_page))
    if query.page > last_page:  # past the end (the data changed, or a hand-made URL): show the last page
        query = replace(query, page=last_page)
        counts, domains = _counts_and_page(project, sites, query)
    rows = gap_rows_for(project, domains, sites=sites)
    return GapPage(Page(rows=rows, total=total, page=query.page, per_page=per_page), counts, sites, query)


def _counts_and_page(project: Project, sites: GapSites, query: GapQuery) -> tuple[dict[str, int], list[str]]:
    """Every tab's count and the current page's domains, in one pass over the grouped rows."""
    inner, outer, needs = _filters(query)
    order, sort_column = _sort(query, sites)
    columns = {name: _AGGREGATES[name] for name in ("you", "comps", "comp_max", *sorted(needs))} | sort_column
    counts = ", ".join(f"count(*) FILTER (WHERE {_tab_sql(tab, sites, query)})" for tab in GapTab.values)
    first = (query.page - 1) * query.per_page + 1
    page = (
        f"(array_agg(g.domain ORDER BY {order}) FILTER (WHERE {_tab_sql(query.tab, sites, query)}))"
        f"[{first}:{first + query.per_page - 1}]"
    )
    where = " AND ".join(outer) or "TRUE"
    sql = f"SELECT {counts}, {page} FROM ({_grouped_sql(columns, inner)}) g WHERE {where}"
    with _gap_planner() as cursor:
        cursor.execute(sql, _params(project, sites, query))
        row = cursor.fetchone()
    return dict(zip(GapTab.values, row[:-1], strict=True)), list(row[-1] or [])


def gap_rows_for(project: Project, domains: list[str], *, sites: GapSites | None = None) -> list[GapRow]:
    """The gap rows of these domains (in the order given; domains no compared site has are left out)."""
    sites = sites or gap_sites(project)
    if not domains or not sites.ids:
        return []
    columns = {name: _AGGREGATES[name] for name in _DETAIL_COLUMNS}
    columns["site_ids"] = "array_agg(r.site_id ORDER BY r.site_id)"
    columns["site_links"] = f"array_agg({_LINKS} ORDER BY r.site_id)"
    columns["is_prospect"] = (
        "EXISTS (SELECT 1 FROM prospects_prospect p WHERE p.project_id = %(project)s"
        f" AND p.pipeline = '{PipelineKind.ACQUISITION}' AND p.domain = r.domain)"
    )
    sql = _grouped_sql(columns, ["r.domain = ANY(%(domains)s)"])
    with connection.cursor() as cursor:
        cursor.execute(sql, {**_params(project, sites, GapQuery()), "domains": list(domains)})
        found = {row[0]: _detail_row(row) for row in cursor.fetchall()}
    return [found[domain] for domain in domains if domain in found]


def _detail_row(row: tuple[Any, ...]) -> GapRow:
    (domain, authority, you, comps, links, follow, first_seen, tld, country,
     site_ids, site_links, is_prospect) = row  # fmt: skip
    return GapRow(
        domain=domain, authority=authority, links_to_you=you, competitors_linked=comps, links=int(links or 0),
        follow=int(follow or 0), first_seen=first_seen, tld=tld or "", country=country or "",
        site_links=dict(zip(site_ids, site_links, strict=True)), is_prospect=is_prospect,
    )  # fmt: skip


def _ordered_sql(project: Project, sites: GapSites, query: GapQuery, columns: dict[str, str]) -> str:
    """Every grouped row of ``query.tab`` passing the filters, in the query's sort order."""
    inner, outer, needs = _filters(query)
    order, sort_column = _sort(query, sites)
    base = {name: _AGGREGATES[name] for name in ("you", "comps", "comp_max", *sorted(needs))}
    where = " AND ".join([_tab_sql(query.tab, sites, query), *outer])
    grouped = _grouped_sql(base | sort_column | columns, inner)
    return f"SELECT g.* FROM ({grouped}) g WHERE {where} ORDER BY {order}"


def gap_domains(project: Project, query: GapQuery, *, limit: int) -> list[str]:
    """Domains of the tab's rows matching the filters (every page), in sort order, at most ``limit``."""
    return gap_domains_counted(project, query, limit=limit)[0]


def gap_domains_counted(project: Project, query: GapQuery, *, limit: int) -> tuple[list[str], int]:
    """``gap_domains`` and how many rows matched in all (counted in the same pass)."""
    sites = gap_sites(project)
    if not sites.ids:
        return [], 0
    ordered = _ordered_sql(project, sites, query, {})
    sql = f"SELECT domain, count(*) OVER () FROM ({ordered}) t LIMIT {int(limit)}"
    with _gap_planner() as cursor:
        cursor.execute(sql, _params(project, sites, query))
        rows = cursor.fetchall()
    return [domain for domain, _ in rows], rows[0][1] if rows else 0


def gap_export_rows(project: Project, query: GapQuery) -> Iterator[GapRow]:
    """Every row of the tab matching the filters, with links per compared site, streamed in
    chunks from a server-side cursor (the transaction stays open while the caller iterates)."""
    sites = gap_sites(project)
    if not sites.ids:
        return
    columns = {name: _AGGREGATES[name] for name in _DETAIL_COLUMNS}
    columns.update({f"s{site.id}": _site_links_sql(site.id) for site in sites.all})
    sql = _ordered_sql(project, sites, query, columns)
    with _gap_planner(), connection.chunked_cursor() as cursor:
        cursor.execute(sql, _params(project, sites, query))
        names = [column.name for column in cursor.description]
        while chunk := cursor.fetchmany(EXPORT_CHUNK):
            for values in chunk:
                yield _export_row(dict(zip(names, values, strict=True)), sites)


def _export_row(values: dict[str, Any], sites: GapSites) -> GapRow:
    site_links = {site.id: values[f"s{site.id}"] for site in sites.all if values[f"s{site.id}"] is not None}
    return GapRow(
        domain=values["domain"], authority=values["authority"], links_to_you=values["you"],
        competitors_linked=values["comps"], links=int(values["links"] or 0),
        follow=int(values["follow"] or 0), first_seen=values["first_seen"], tld=values["tld"] or "",
        country=values["country"] or "", site_links=site_links,
    )  # fmt: skip


def gap_domains_present(project: Project, domains: list[str]) -> set[str]:
    """Which of ``domains`` are rows of the project's gap (link live to any compared site)."""
    sites = gap_sites(project)
    if not domains or not sites.ids:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT domain FROM audit_refdomain WHERE site_id = ANY(%s) AND lost_at IS NULL"
            " AND domain = ANY(%s)",
            [sites.ids, list(domains)],
        )
        return {domain for (domain,) in cursor.fetchall()}
