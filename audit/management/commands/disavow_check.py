"""``manage.py disavow_check FILE``: check a disavow file the way Google reads it, line by line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.disavow import Severity, parse_disavow


class Command(BaseCommand):
    help = (
        "Check a Google disavow file: prints every error, warning and note with its line number and "
        "exits 1 when Google would reject the file. --site names your site to warn about lines that "
        "disavow it (and every other site tracked in LinkCRM, e.g. competitors)."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the disavow file (.txt)")
        parser.add_argument("--site", help="your site's domain (reads the tracked sites from the database)")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        own, tracked = _domains(options.get("site"))
        check = parse_disavow(path.read_bytes(), own_domains=own, tracked_domains=tracked)
        for issue in check.issues:
            out = self.stderr if issue.severity == Severity.ERROR else self.stdout
            out.write(f"{path}:{issue}")
        self.stdout.write(
            f"{path}: {check.lines:,} lines, {len(check.entries):,} entries, {len(check.errors)} errors, "
            f"{len(check.warnings)} warnings, {len(check.of(Severity.NOTE))} notes"
        )
        if check.google_would_reject:
            raise CommandError("Google would reject this file: fix the errors above")


def _domains(site: str | None) -> tuple[set[str], set[str]]:
    """(your domains, other tracked sites' domains); none without --site (no database needed)."""
    if not site:
        return set(), set()
    from audit.models import Site
    from linkcrm.lib.domains import DomainError, domain_of_url

    try:
        own = domain_of_url(site)
    except DomainError as exc:
        raise CommandError(str(exc)) from None
    return {own}, set(Site.objects.exclude(domain=own).values_list("domain", flat=True))
