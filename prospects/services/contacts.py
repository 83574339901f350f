"""Contacts of prospects: add by hand, discover on the prospect's site, choose the primary,
record bounces. Every write owns its transaction; network and DNS work happens outside any.

Addresses are stored lower-cased and are unique per prospect; an address or domain on the
do-not-contact list (project or global) is refused. A prospect's first contact becomes its
primary one; deleting the primary promotes the next. Changes to one prospect's contacts are
serialised by locking the prospect row, so "exactly one primary" holds under concurrency.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django_q.tasks import async_task

from linkcrm.lib.safehttp import SafeClient
from prospects.choices import ContactSource, EmailStatus, SuppressionKind
from prospects.discovery import FoundEmail, PageVisit, discover
from prospects.models import Contact, Project, Prospect, Suppression
from prospects.mx import MxChecker, mx_checker_from_settings
from prospects.services.suppression import suppression_add, suppression_match

DISCOVER_TASK = "prospects.tasks.contacts_discover_task"


class ContactError(ValueError):
    """A contact cannot be saved as asked; ``str(exc)`` says why (safe to show)."""

    field = "email"


class ContactInvalid(ContactError):
    """Not a valid email address."""


class ContactSuppressed(ContactError):
    """The address, or its domain, is on the do-not-contact list."""

    def __init__(self, message: str, suppression: Suppression) -> None:
        super().__init__(message)
        self.suppression = suppression


class ContactDuplicate(ContactError):
    """The prospect already has this address."""

    def __init__(self, message: str, existing: Contact) -> None:
        super().__init__(message)
        self.existing = existing


def discovery_group(prospect_id: int) -> str:
    """The django-q2 group of a prospect's discovery runs (the page reads the last result by it)."""
    return f"contacts-discover-{prospect_id}"


# --- adding and editing ------------------------------------------------------------------


def contact_add(
    *, prospect: Prospect, email: str, name: str = "", role: str = "",
    source: ContactSource | str = ContactSource.MANUAL, source_url: str = "",
    email_status: EmailStatus | str = EmailStatus.UNKNOWN, make_primary: bool = False,
) -> Contact:
    """Add a contact. Raises ContactInvalid, ContactSuppressed or ContactDuplicate.

    The first contact of a prospect becomes primary; ``make_primary`` takes the role from another.
    """
    address = checked_email(email)
    refuse_suppressed(project=prospect.project_id, email=address)
    with transaction.atomic():
        locked = Prospect.objects.select_for_update().get(pk=prospect.pk)
        _refuse_duplicate(prospect_id=locked.pk, email=address)
        first = not Contact.objects.filter(prospect=locked).exists()
        if make_primary and not first:
            Contact.objects.filter(prospect=locked, is_primary=True).update(is_primary=False)
        try:
            with transaction.atomic():
                return Contact.objects.create(
                    prospect=locked, email=address, name=name.strip()[:200], role=role.strip()[:100],
                    source=source, source_url=source_url if len(source_url) <= 2048 else "",
                    email_status=email_status, is_primary=first or make_primary,
                )
        except IntegrityError:  # only reachable if the lock above is ever removed
            raise ContactDuplicate(f"{address} is already a contact of {locked.domain}",
                                   Contact.objects.get(prospect=locked, email__iexact=address)) from None


@transaction.atomic
def contact_update(*, contact_id: int, name: str | None = None, role: str | None = None,
                   email: str | None = None) -> Contact:
    """Change a contact's name, role or address (a new address is checked like a new contact)."""
    contact = Contact.objects.select_related("prospect").get(pk=contact_id)
    Prospect.objects.select_for_update().filter(pk=contact.prospect_id).first()
    if email is not None and email.strip().lower() != contact.email:
        address = checked_email(email)
        refuse_suppressed(project=contact.prospect.project_id, email=address)
        _refuse_duplicate(prospect_id=contact.prospect_id, email=address, exclude_id=contact.pk)
        contact.email, contact.email_status = address, EmailStatus.UNKNOWN
    if name is not None:
        contact.name = name.strip()[:200]
    if role is not None:
        contact.role = role.strip()[:100]
    contact.save(update_fields=["email", "email_status", "name", "role"])
    return contact


@transaction.atomic
def contact_delete(*, contact_id: int) -> bool:
    """Delete a contact; when it was the primary, the next contact (by address) takes over."""
    contact = Contact.objects.filter(pk=contact_id).first()
    if contact is None:
        return False
    Prospect.objects.select_for_update().filter(pk=contact.prospect_id).first()
    contact.delete()
    if contact.is_primary:
        successor = Contact.objects.filter(prospect_id=contact.prospect_id).order_by("email").first()
        if successor is not None:
            Contact.objects.filter(pk=successor.pk).update(is_primary=True)
    return True


@transaction.atomic
def contact_set_primary(*, contact_id: int) -> Contact:
    """Make this contact its prospect's one primary contact."""
    contact = Contact.objects.get(pk=contact_id)
    Prospect.objects.select_for_update().filter(pk=contact.prospect_id).first()
    Contact.objects.filter(prospect_id=contact.prospect_id, is_primary=True).exclude(pk=contact.pk).update(
        is_primary=False
    )
    Contact.objects.filter(pk=contact.pk).update(is_primary=True)
    contact.is_primary = True
    return contact


@transaction.atomic
def contact_mark_bounced(*, email: str, project: Project | int | None = None, suppress: bool = False) -> int:
    """Mark every contact with this address (in ``project``, or anywhere) as bounced; how many.

    For outreach on a hard bounce. ``suppress`` also puts the address on the global
    do-not-contact list: a mailbox that does not exist does not exist for any project.
    """
    address = email.strip().lower()
    contacts = Contact.objects.filter(email__iexact=address)
    if project is not None:
        project_id = project.pk if isinstance(project, Project) else project
        contacts = contacts.filter(prospect__project_id=project_id)
    changed = contacts.exclude(email_status=EmailStatus.BOUNCED).update(email_status=EmailStatus.BOUNCED)
    if suppress and "@" in address:
        suppression_add(project=None, value=address, kind=SuppressionKind.EMAIL, reason="Hard bounce")
    return changed


# --- checks shared with the views and the API ----------------------------------------------


def checked_email(email: str) -> str:
    """The lower-cased address; ContactInvalid when it is not a valid one."""
    address = email.strip().lower()
    try:
        validate_email(address)
    except ValidationError:
        raise ContactInvalid(f"{email.strip()!r} is not a valid email address") from None
    return address


def refuse_suppressed(*, project: Project | int | None, email: str) -> None:
    """Raise ContactSuppressed when the address or its domain is on a do-not-contact list."""
    entry = suppression_match(project=project, email=email)
    if entry is not None:
        scope = "this project's" if entry.project_id else "the global"
        raise ContactSuppressed(f"{email} is on {scope} do-not-contact list ({entry.value})", entry)


def _refuse_duplicate(*, prospect_id: int, email: str, exclude_id: int | None = None) -> None:
    duplicates = Contact.objects.filter(prospect_id=prospect_id, email__iexact=email).exclude(pk=exclude_id)
    existing = duplicates.first()
    if existing is not None:
        raise ContactDuplicate(f"{email} is already a contact of this prospect", existing)


def email_status_for(email: str, mx: MxChecker) -> EmailStatus:
    """VALID when the domain takes mail, NO_MX when it cannot, UNKNOWN when DNS could not tell."""
    answer = mx.has_mail_server(email.rsplit("@", 1)[1])
    if answer is None:
        return EmailStatus.UNKNOWN
    return EmailStatus.VALID if answer else EmailStatus.NO_MX


# --- discovery -------------------------------------------------------------------------------


@dataclass
class DiscoveryResult:
    """One discovery run: pages visited and what became of every address found."""

    prospect_id: int
    domain: str = ""
    pages: list[PageVisit] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    suppressed: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    error: str = ""

    def as_dict(self) -> dict[str, object]:
        """Plain data (stored as the task's result and shown on the contacts page)."""
        return asdict(self)


def contacts_discover_enqueue(*, prospect_id: int) -> None:
    """Queue a discovery run for the prospect once the current transaction commits."""
    transaction.on_commit(
        lambda: async_task(DISCOVER_TASK, prospect_id, group=discovery_group(prospect_id),
                           task_name=f"{discovery_group(prospect_id)}-run")
    )


def contacts_discover(
    *, prospect_id: int, client: SafeClient | None = None, mx: MxChecker | None = None,
    start_url: str | None = None, max_pages: int | None = None,
) -> DiscoveryResult:
    """Look for addresses on the prospect's site and add the usable ones as contacts.

    ``client``, ``mx`` and ``start_url`` default to the real ones (settings); tests pass a
    client allowed to reach their loopback server and an offline MX checker.
    """
    prospect = Prospect.objects.filter(pk=prospect_id).first()
    if prospect is None:
        return DiscoveryResult(prospect_id=prospect_id, error="The prospect no longer exists.")
    result = DiscoveryResult(prospect_id=prospect_id, domain=prospect.domain)
    if suppression_match(project=prospect.project_id, domain=prospect.domain) is not None:
        result.error = f"{prospect.domain} is on the do-not-contact list: its site was not visited."
        return result
    fetcher = client or SafeClient()  # one client per run: robots.txt is fetched once per site
    try:
        report = discover(prospect.domain, fetcher, start_url=start_url,
                          max_pages=max_pages or settings.LINKCRM_DISCOVERY_MAX_PAGES)
    finally:
        if client is None:
            fetcher.close()
    result.pages = report.pages
    _store_found(prospect, report.emails, mx or mx_checker_from_settings(), result)
    return result


def _store_found(
    prospect: Prospect, emails: list[FoundEmail], mx: MxChecker, result: DiscoveryResult
) -> None:
    """Add the found addresses (best first, so the best becomes primary on a fresh prospect)."""
    for found in emails:
        try:
            refuse_suppressed(project=prospect.project_id, email=found.email)
            status = email_status_for(found.email, mx)
            contact_add(prospect=prospect, email=found.email, name=found.name, role=found.role,
                        source=ContactSource.DISCOVERED, source_url=found.source_url, email_status=status)
        except ContactSuppressed:
            result.suppressed.append(found.email)
        except ContactDuplicate:
            result.existing.append(found.email)
        except ContactInvalid:
            result.invalid.append(found.email)
        else:
            result.added.append(found.email)
