"""Writes of the review workflow and the disavow list. Every function owns its transaction.

A decision (``ReviewDecision``) is history: each one is a new row saying who, when and why;
the latest for a link or for its referring domain is the current status (the more recent of
the two wins). The disavow list follows the decisions: "Disavowed" adds the domain (or the
link's URL) to the site's list, a later decision otherwise takes it off again (the entry row
keeps who removed it and when). Imported disavow files add entries too, with their reasons.
Every export is stored as a numbered version.

Contract used by prospects.services.removal:

    review_decide(*, site, status, reason, user, domains=(), backlink_ids=()) -> list[ReviewDecision]
"""

# ruff: noqa: S608 - SQL assembled from constants only; values are bound

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import reduce

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from audit import disavow
from audit.choices import DisavowKind, DisavowOrigin, ReviewStatus
from audit.models import Backlink, DisavowEntry, DisavowVersion, ReviewDecision, Site
from linkcrm.lib.domains import DomainError, normalize_host, registrable_domain


class ReviewError(ValueError):
    """A decision that cannot be recorded (unknown links, bad domain, URL too long ...)."""


# --- decisions ---------------------------------------------------------------------------------


@transaction.atomic
def review_decide(
    *,
    site: Site,
    status: str,
    reason: str,
    user: AbstractBaseUser | None,
    domains: Iterable[str] = (),
    backlink_ids: Iterable[int] = (),
) -> list[ReviewDecision]:
    """Record one decision per referring domain and per link of ``site``, and keep the disavow
    list in step with it. Raises ReviewError (nothing written) for links of another site or
    text that is not a domain."""
    status = ReviewStatus(status)
    now = timezone.now()
    wanted = _domains(domains)
    links = list(Backlink.objects.filter(site=site, id__in=set(backlink_ids)).only("id", "source_url", "source_domain"))
    if len(links) != len(set(backlink_ids)):
        raise ReviewError("some of these links are not links of this site (deleted meanwhile?)")
    decisions = [
        ReviewDecision(site=site, domain=domain, status=status, reason=reason, decided_by=user, decided_at=now)
        for domain in wanted
    ] + [
        ReviewDecision(site=site, domain=link.source_domain, backlink_id=link.id, source_url=link.source_url,
                       status=status, reason=reason, decided_by=user, decided_at=now)
        for link in links
    ]  # fmt: skip
    ReviewDecision.objects.bulk_create(decisions)
    targets = [(DisavowKind.DOMAIN, domain, domain) for domain in wanted]
    targets += [(DisavowKind.URL, _url_value(link.source_url), link.source_domain) for link in links]
    if status == ReviewStatus.DISAVOWED:
        _add_entries(site, [
            DisavowEntry(site=site, kind=kind, value=value, domain=domain, reason=reason,
                         origin=DisavowOrigin.REVIEW, added_by=user, added_at=now)
            for kind, value, domain in targets
        ])  # fmt: skip
    else:
        _remove_entries(site, [(kind, value) for kind, value, _ in targets], user=user, now=now)
    return decisions


def _domains(values: Iterable[str]) -> list[str]:
    """Registrable domains, deduplicated, in the order given."""
    out: dict[str, None] = {}
    for value in values:
        try:
            out[registrable_domain(normalize_host(value))] = None
        except DomainError as exc:
            raise ReviewError(str(exc)) from None
    return list(out)


def _url_value(url: str) -> str:
    """A link's source URL as a disavow line (normalised like an imported one)."""
    check = disavow.parse_disavow(url.encode("utf-8"))
    if check.errors or not check.entries:
        raise ReviewError(f"{url[:80]} cannot be disavowed as a URL: {check.errors[0].message if check.errors else ''}")
    return check.entries[0].value


def _add_entries(site: Site, entries: Iterable[DisavowEntry]) -> int:
    """Store the entries not already on the list (nor earlier in ``entries``: two links from
    one page are one URL line); returns how many were added."""
    active = set(
        DisavowEntry.objects.filter(site=site, removed_at__isnull=True).values_list("kind", "value")
    )
    fresh = []
    for entry in entries:
        if (entry.kind, entry.value) not in active:
            active.add((entry.kind, entry.value))
            fresh.append(entry)
    DisavowEntry.objects.bulk_create(fresh)
    return len(fresh)


def _remove_entries(
    site: Site, targets: Sequence[tuple[str, str]], *, user: AbstractBaseUser | None, now: object
) -> int:
    """Take the (kind, value) entries off the list in one UPDATE; returns how many were on it."""
    by_kind: dict[str, list[str]] = {}
    for kind, value in targets:
        by_kind.setdefault(kind, []).append(value)
    if not by_kind:
        return 0
    wanted = reduce(operator.or_, (Q(kind=kind, value__in=values) for kind, values in by_kind.items()))
    return DisavowEntry.objects.filter(wanted, site=site, removed_at__isnull=True).update(
        removed_at=now, removed_by=user
    )


# --- the disavow list --------------------------------------------------------------------------


class DisavowFileRefused(ValueError):
    """A file with errors (Google would reject it): nothing was imported. ``check`` says where."""

    def __init__(self, check: disavow.DisavowCheck, message: str) -> None:
        super().__init__(message)
        self.check = check


@dataclass(frozen=True)
class DisavowImportResult:
    check: disavow.DisavowCheck
    added: int
    already: int


def disavow_domains_for(site: Site) -> tuple[set[str], set[str]]:
    """(your domain, every other tracked site's domain) for a file's risk warnings."""
    return {site.domain}, set(Site.objects.exclude(pk=site.pk).values_list("domain", flat=True))


@transaction.atomic
def disavow_import(
    *, site: Site, data: bytes, user: AbstractBaseUser | None, accept_warnings: bool = False, file_name: str = ""
) -> DisavowImportResult:
    """Add a disavow file's entries (with their reasons) to the site's list.

    Raises DisavowFileRefused, importing nothing, when the file has errors, or has warnings
    (risky lines) and ``accept_warnings`` is false. Whole registrable domains also get a
    "Disavowed" decision, so the review shows them with who imported them and why.
    """
    own, tracked = disavow_domains_for(site)
    check = disavow.parse_disavow(data, own_domains=own, tracked_domains=tracked)
    if check.errors:
        raise DisavowFileRefused(check, f"the file has {len(check.errors)} errors: nothing was imported")
    if check.warnings and not accept_warnings:
        raise DisavowFileRefused(check, f"the file has {len(check.warnings)} risky lines: confirm to import them")
    now = timezone.now()
    source = f"imported from {file_name}" if file_name else "imported from a disavow file"
    added = _add_entries(site, [
        DisavowEntry(site=site, kind=e.kind, value=e.value, domain=e.domain, reason=e.reason or source,
                     origin=DisavowOrigin.IMPORT, added_by=user, added_at=now, position=e.line)
        for e in check.entries
    ])  # fmt: skip
    ReviewDecision.objects.bulk_create(
        ReviewDecision(site=site, domain=e.value, status=ReviewStatus.DISAVOWED,
                       reason=f"{source}: {e.reason}" if e.reason else source, decided_by=user, decided_at=now)
        for e in check.entries if e.kind == DisavowKind.DOMAIN and e.value == e.domain
    )  # fmt: skip
    return DisavowImportResult(check=check, added=added, already=len(check.entries) - added)


@transaction.atomic
def disavow_entry_remove(*, site: Site, entry_id: int, user: AbstractBaseUser | None, reason: str = "") -> bool:
    """Take one entry off the list (kept as history); a whole domain also gets a "For review"
    decision saying so. False when it was not on the list."""
    entry = DisavowEntry.objects.filter(site=site, id=entry_id, removed_at__isnull=True).first()
    if entry is None:
        return False
    now = timezone.now()
    DisavowEntry.objects.filter(id=entry.id).update(removed_at=now, removed_by=user)
    if entry.kind == DisavowKind.DOMAIN and entry.value == entry.domain:
        ReviewDecision.objects.create(site=site, domain=entry.domain, status=ReviewStatus.FOR_REVIEW,
                                      reason=reason or "removed from the disavow list", decided_by=user,
                                      decided_at=now)  # fmt: skip
    return True


@transaction.atomic
def disavow_export(*, site: Site, user: AbstractBaseUser | None) -> DisavowVersion:
    """Write the site's current list in Google's format and store it as the next version.

    Raises disavow.DisavowRefused (nothing stored) when the file would break Google's limits.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(7407, %s)", [site.id])  # one numbering at a time
    number = (DisavowVersion.objects.filter(site=site).aggregate(n=Max("number"))["n"] or 0) + 1
    entries = [
        disavow.DisavowLine(entry.position, DisavowKind(entry.kind), entry.value, entry.reason)
        for entry in DisavowEntry.objects.filter(site=site, removed_at__isnull=True).order_by("position", "id")
    ]
    content = disavow.render_disavow(entries, site_domain=site.domain, exported_at=timezone.now(), version=number)
    return DisavowVersion.objects.create(
        site=site, number=number, content=content, lines=len(entries), size=len(content.encode("utf-8")),
        created_by=user,
    )
