"""Do-not-contact: addresses and whole domains we never write to, per project or for all.

Values are stored normalised: an email lower-cased, a domain as its registrable domain in
punycode (``blog.Example.co.uk`` → ``example.co.uk``), so one lookup matches every spelling.
An address also matches a suppression of its domain, and a project's list is its own entries
plus the global ones (``project`` null). Enforced by prospect and contact creation here and,
through ``suppression_match``, by outreach at enrollment and again at send time.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, Q, Value, When

from linkcrm.lib.domains import DomainError, domain_of_url, is_public_suffix
from prospects.choices import SuppressionKind
from prospects.models import Project, Suppression

ProjectRef = Project | int | None
MAX_IMPORT_LINES = 100_000


class SuppressionError(ValueError):
    """The value is neither a valid email address nor a domain."""


@dataclass(frozen=True)
class SuppressionValue:
    kind: SuppressionKind
    value: str


@dataclass
class SuppressionImportResult:
    """What a bulk import did. With ``errors`` and no ``skip_invalid`` nothing was written."""

    added: int = 0
    existing: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (line number, text, why)

    @property
    def ok(self) -> bool:
        return not self.errors


def suppression_normalise(value: str, kind: SuppressionKind | str | None = None) -> SuppressionValue:
    """``Jane@Example.COM`` → email ``jane@example.com``; ``https://www.Shop.co.uk/x``,
    ``@shop.co.uk`` or ``*@shop.co.uk`` → domain ``shop.co.uk``. ``kind`` forces one reading."""
    text = value.strip()
    if text.startswith("*@"):
        text = text[1:]
    if kind is None:
        kind = SuppressionKind.EMAIL if "@" in text.lstrip("@") else SuppressionKind.DOMAIN
    if kind == SuppressionKind.EMAIL:
        return SuppressionValue(SuppressionKind.EMAIL, normalise_email(text))
    return SuppressionValue(SuppressionKind.DOMAIN, normalise_domain(text.lstrip("@")))


def normalise_email(value: str) -> str:
    """The lower-cased address; SuppressionError when it is not a valid one."""
    email = value.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise SuppressionError(f"{value.strip()!r} is not a valid email address") from None
    return email


def normalise_domain(value: str) -> str:
    """The registrable domain of a domain, host or URL; SuppressionError when there is none."""
    text = value.strip()
    if not text or "@" in text or " " in text:
        raise SuppressionError(f"{text!r} is not a domain")
    try:
        domain = domain_of_url(text)
    except DomainError as exc:
        raise SuppressionError(str(exc)) from None
    if "." not in domain or is_public_suffix(domain):
        raise SuppressionError(f"{text!r} is not a domain (a public suffix such as co.uk cannot be listed)")
    return domain


@transaction.atomic
def suppression_add(
    *, project: Project | None, value: str, kind: SuppressionKind | str | None = None, reason: str = "",
    created_by: AbstractBaseUser | None = None,
) -> tuple[Suppression, bool]:
    """Add an email or domain to a project's list (or the global one); (row, created).

    Idempotent: an existing entry is returned untouched. Raises SuppressionError for bad values.
    """
    parsed = suppression_normalise(value, kind)
    lookup = {"project": project, "kind": parsed.kind, "value": parsed.value}
    existing = Suppression.objects.filter(**lookup).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            return Suppression.objects.create(**lookup, reason=reason[:200], created_by=created_by), True
    except IntegrityError:
        # Someone added the same entry between our read and our insert: theirs stands.
        return Suppression.objects.get(**lookup), False


@transaction.atomic
def suppression_remove(*, suppression_id: int) -> bool:
    """Delete one entry; False when it was already gone."""
    deleted, _ = Suppression.objects.filter(pk=suppression_id).delete()
    return deleted > 0


def suppression_match(
    *, project: ProjectRef, email: str | None = None, domain: str | None = None
) -> Suppression | None:
    """The entry that forbids contacting ``email`` (or anyone at ``domain``) in ``project``, or None.

    Checks the project's own list and the global one; an email is matched as an address and
    by its registrable domain. Email entries win over domain ones, project over global.
    Values that cannot be read (not an email, not a domain) match nothing.
    """
    condition = _match_condition(email=email, domain=domain)
    if condition is None:
        return None
    preference = Case(
        When(kind=SuppressionKind.EMAIL, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return (
        Suppression.objects.filter(_scope(project), condition)
        .annotate(_kind_order=preference)
        .order_by("_kind_order", "project_id")  # NULLs last in PostgreSQL ascending: project before global
        .first()
    )


def _scope(project: ProjectRef) -> Q:
    """The global list, plus the project's own when there is a project."""
    project_id = project.pk if isinstance(project, Project) else project
    if project_id is None:
        return Q(project__isnull=True)
    return Q(project__isnull=True) | Q(project_id=project_id)


def _match_condition(*, email: str | None, domain: str | None) -> Q | None:
    domains: set[str] = set()
    condition: Q | None = None
    if email:
        address = email.strip().lower()
        condition = Q(kind=SuppressionKind.EMAIL, value=address)
        if address.count("@") == 1:
            domains.add(address.split("@")[1])
    if domain:
        domains.add(domain)
    registrable = {_registrable_or_empty(name) for name in domains} - {""}
    if registrable:
        by_domain = Q(kind=SuppressionKind.DOMAIN, value__in=registrable)
        condition = by_domain if condition is None else condition | by_domain
    return condition


def _registrable_or_empty(name: str) -> str:
    try:
        return domain_of_url(name)
    except DomainError:
        return ""


def suppressed_domains(*, project: ProjectRef, domains: Iterable[str]) -> set[str]:
    """Which of these registrable domains are suppressed (project or global): one query for many.

    For set-based callers such as prospect creation; ``domains`` must already be normalised.
    """
    wanted = set(domains)
    if not wanted:
        return set()
    rows = Suppression.objects.filter(_scope(project), kind=SuppressionKind.DOMAIN, value__in=wanted)
    return set(rows.values_list("value", flat=True))


def suppression_import(
    *, project: Project | None, text: str, created_by: AbstractBaseUser | None = None, reason: str = "",
    skip_invalid: bool = False,
) -> SuppressionImportResult:
    """Add many entries from CSV or plain lines: ``value`` or ``value,reason`` per line.

    Blank lines, ``#`` comments and a header row (email/domain/value) are skipped. Any bad line
    is reported with its number; unless ``skip_invalid``, nothing is written then (all or nothing).
    """
    result = SuppressionImportResult()
    rows = _import_rows(text, result)
    if result.errors and not skip_invalid:
        return result
    with transaction.atomic():
        for parsed, line_reason in rows:
            _, created = suppression_add(project=project, value=parsed.value, kind=parsed.kind,
                                         reason=line_reason or reason, created_by=created_by)
            result.added += created
            result.existing += not created
    return result


def _import_rows(text: str, result: SuppressionImportResult) -> list[tuple[SuppressionValue, str]]:
    """Parsed (value, reason) per usable line; errors recorded on ``result``."""
    rows: list[tuple[SuppressionValue, str]] = []
    seen: set[SuppressionValue] = set()
    for number, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        if number > MAX_IMPORT_LINES:
            result.errors.append((number, "", f"more than {MAX_IMPORT_LINES} lines; split the file"))
            break
        try:
            cells = next(csv.reader([line]), [])
        except csv.Error as exc:
            result.errors.append((number, line[:100], f"unreadable CSV: {exc}"))
            continue
        first = cells[0].strip() if cells else ""
        header = number == 1 and first.lower() in {"email", "domain", "value"}
        if not first or first.startswith("#") or header:
            continue
        try:
            parsed = suppression_normalise(first)
        except SuppressionError as exc:
            result.errors.append((number, first[:100], str(exc)))
            continue
        if parsed not in seen:
            seen.add(parsed)
            rows.append((parsed, ",".join(cells[1:]).strip()))
    return rows
