"""Writes for projects: members, the site they promote, competitors, terms, target pages, weights.

Every function owns its transaction. Settings that change scores (keywords, weights) rescore
the project's prospects in the same transaction, so a score never disagrees with its weights.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from audit.models import Site
from audit.services import site_get_or_create
from linkcrm.lib.domains import DomainError, domain_of_url
from prospects.models import Project, ProjectCompetitor, ProjectMembership, TargetPage, default_score_weights


@transaction.atomic
def project_create(
    *, name: str, created_by: AbstractBaseUser | None, description: str = "",
    members: Iterable[AbstractBaseUser] = (), is_demo: bool = False,
) -> Project:
    project = Project.objects.create(
        name=name.strip(), description=description, created_by=created_by, is_demo=is_demo
    )
    for user in members:
        project_add_member(project=project, user=user, added_by=created_by)
    return project


@transaction.atomic
def project_add_member(
    *, project: Project, user: AbstractBaseUser, added_by: AbstractBaseUser | None
) -> bool:
    """Add ``user`` to ``project``; False when already a member (idempotent)."""
    _, created = ProjectMembership.objects.get_or_create(
        project=project, user=user, defaults={"added_by": added_by}
    )
    return created


@transaction.atomic
def project_remove_member(*, project: Project, user: AbstractBaseUser) -> bool:
    deleted, _ = ProjectMembership.objects.filter(project=project, user=user).delete()
    return deleted > 0


@transaction.atomic
def project_set_members(
    *, project: Project, users: Iterable[AbstractBaseUser], changed_by: AbstractBaseUser | None
) -> None:
    wanted = {user.pk: user for user in users}
    ProjectMembership.objects.filter(project=project).exclude(user_id__in=wanted).delete()
    for user in wanted.values():
        project_add_member(project=project, user=user, added_by=changed_by)


# --- what a project compares and pitches -----------------------------------------------------

SCORE_PARTS = tuple(default_score_weights())
TERM_MAX_LENGTH = 100


class ProjectSettingsError(ValueError):
    """A project setting was refused; the message says why (shown to the user as it is)."""


@dataclass(frozen=True)
class CompetitorsAdded:
    """What ``project_add_competitors`` did with each value it was given."""

    added: list[str] = field(default_factory=list)  # registrable domains now compared
    already: list[str] = field(default_factory=list)  # competitors before, or given twice
    refused: list[tuple[str, str]] = field(default_factory=list)  # (value as given, why)


def _site_for(value: str) -> Site:
    try:
        return site_get_or_create(domain_or_url=value)
    except DomainError as exc:
        raise ProjectSettingsError(str(exc)) from None


@transaction.atomic
def project_set_site(*, project: Project, domain_or_url: str) -> Site | None:
    """Set (or, with an empty value, clear) the site the project promotes; returns it.

    The site is a registrable domain (``https://www.shop.example.co.uk/x`` → ``example.co.uk``),
    created in audit when new. Refused when it is one of the project's competitors.
    """
    if not domain_or_url.strip():
        Project.objects.filter(id=project.id).update(site=None)
        project.site = None
        return None
    site = _site_for(domain_or_url)
    if ProjectCompetitor.objects.filter(project=project, site=site).exists():
        raise ProjectSettingsError(
            f"{site.domain} is a competitor in this project; remove it from the competitors first"
        )
    Project.objects.filter(id=project.id).update(site=site)
    project.site = site
    return site


@transaction.atomic
def project_add_competitors(*, project: Project, values: Iterable[str]) -> CompetitorsAdded:
    """Add any number of competitors (domains or URLs, one per value; blank values are ignored)."""
    result = CompetitorsAdded()
    seen: set[str] = set()
    for value in (text.strip() for text in values):
        if not value:
            continue
        try:
            site = _site_for(value)
        except ProjectSettingsError as exc:
            result.refused.append((value, str(exc)))
            continue
        if site.id == project.site_id:
            result.refused.append((value, f"{site.domain} is this project's own site"))
        elif site.domain in seen or not _competitor_added(project, site):
            result.already.append(site.domain)
        else:
            result.added.append(site.domain)
        seen.add(site.domain)
    return result


def _competitor_added(project: Project, site: Site) -> bool:
    return ProjectCompetitor.objects.get_or_create(project=project, site=site)[1]


@transaction.atomic
def project_remove_competitor(*, project: Project, site_id: int) -> bool:
    """Stop comparing a competitor (its link data stays in audit); False when it was not one."""
    deleted, _ = ProjectCompetitor.objects.filter(project=project, site_id=site_id).delete()
    return deleted > 0


def clean_terms(values: Iterable[str], *, what: str) -> list[str]:
    """Trimmed, inner spaces collapsed, duplicates (ignoring case) dropped, order kept.

    Raises ProjectSettingsError for a term longer than TERM_MAX_LENGTH.
    """
    terms: list[str] = []
    seen: set[str] = set()
    for value in values:
        term = " ".join(value.split())
        if len(term) > TERM_MAX_LENGTH:
            raise ProjectSettingsError(f"{what} {term[:30]!r}… is longer than {TERM_MAX_LENGTH} characters")
        if term and term.casefold() not in seen:
            seen.add(term.casefold())
            terms.append(term)
    return terms


@transaction.atomic
def project_set_brand_terms(*, project: Project, terms: Iterable[str]) -> list[str]:
    """Replace the project's brand terms (its own brand names, never prospects' topics)."""
    project.brand_terms = clean_terms(terms, what="brand term")
    Project.objects.filter(id=project.id).update(brand_terms=project.brand_terms)
    return project.brand_terms


@transaction.atomic
def project_set_keywords(*, project: Project, keywords: Iterable[str]) -> list[str]:
    """Replace the project's topic keywords and rescore its prospects (relevance reads them)."""
    from prospects.services.scoring import prospects_rescore

    cleaned = clean_terms(keywords, what="keyword")
    if cleaned == project.keywords:
        return cleaned  # nothing to rescore
    project.keywords = cleaned
    Project.objects.filter(id=project.id).update(keywords=cleaned)
    prospects_rescore(project=project)
    return cleaned


@transaction.atomic
def project_add_target_page(*, project: Project, url: str, label: str = "") -> TargetPage:
    """Add a page of the project's site that outreach asks links to; refused when the URL is not
    an http(s) URL of that site, or is already a target page."""
    url = url.strip()
    if not url.lower().startswith(("http://", "https://")):
        raise ProjectSettingsError(f"{url!r} is not an http(s) URL")
    try:
        domain = domain_of_url(url)
    except DomainError as exc:
        raise ProjectSettingsError(str(exc)) from None
    if project.site_id and domain != project.site.domain:
        raise ProjectSettingsError(f"{url} is not a page of {project.site.domain}, this project's site")
    page, created = TargetPage.objects.get_or_create(
        project=project, url=url, defaults={"label": label.strip()[:200]}
    )
    if not created:
        raise ProjectSettingsError(f"{url} is already a target page")
    return page


@transaction.atomic
def project_remove_target_page(*, project: Project, target_page_id: int) -> bool:
    deleted, _ = TargetPage.objects.filter(project=project, id=target_page_id).delete()
    return deleted > 0


@transaction.atomic
def project_set_score_weights(*, project: Project, weights: dict[str, int]) -> dict[str, int]:
    """Replace the score weights (every part, whole numbers 0-100, not all zero) and rescore."""
    from prospects.services.scoring import prospects_rescore

    if set(weights) != set(SCORE_PARTS):
        raise ProjectSettingsError(f"weights must name exactly these parts: {', '.join(SCORE_PARTS)}")
    for part, weight in weights.items():
        if type(weight) is not int or not 0 <= weight <= 100:
            raise ProjectSettingsError(f"the weight of {part} must be a whole number from 0 to 100")
    if not any(weights.values()):
        raise ProjectSettingsError("at least one weight must be above 0")
    project.score_weights = {part: weights[part] for part in SCORE_PARTS}
    Project.objects.filter(id=project.id).update(score_weights=project.score_weights)
    prospects_rescore(project=project)
    return project.score_weights
