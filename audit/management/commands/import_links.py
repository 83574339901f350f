"""``manage.py import_links SITE FILE``: import a backlink export now, in this process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.choices import ImportFormat, ImportStatus
from audit.importers.base import ImportRefused
from audit.models import LinkImport
from audit.services import link_import_run, link_import_store, site_get_or_create
from linkcrm.lib.domains import DomainError

ERRORS_SHOWN = 50


class Command(BaseCommand):
    help = (
        "Import a backlink or referring-domain export (Semrush, Ahrefs, Search Console, Majestic; "
        "plain, gzip or zip) for a site, in one transaction. Exits 1 when the file is refused."
    )
    # A data-loading tool: it must not depend on the web side (URLs, templates) being checkable.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("site", help="the site's domain or URL (created when new)")
        parser.add_argument("file", type=Path, help="the export file")
        parser.add_argument(
            "--format", dest="import_format",
            choices=[f.value for f in ImportFormat if f != ImportFormat.SEMRUSH_API],
            help="use this format instead of detecting it from the header",
        )  # fmt: skip
        parser.add_argument(
            "--partial", action="store_true",
            help="the export is not complete: do not mark links missing from it as lost",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            site = site_get_or_create(domain_or_url=options["site"])
        except DomainError as exc:
            raise CommandError(str(exc)) from None
        forced = ImportFormat(options["import_format"]) if options["import_format"] else None
        with path.open("rb") as handle:
            try:
                link_import = link_import_store(
                    site=site, uploaded_file=File(handle, name=path.name), created_by=None,
                    full_snapshot=False if options["partial"] else None, import_format=forced,
                )  # fmt: skip
            except ImportRefused as exc:
                raise CommandError(f"{path.name} refused: {exc}") from None
        self.stdout.write(
            f"{path.name}: {ImportFormat(link_import.format).label} ({link_import.format}) for {site.domain}"
            + ("" if link_import.full_snapshot else ", partial export")
        )
        link_import = link_import_run(import_id=link_import.id)
        self._report(link_import)

    def _report(self, link_import: LinkImport) -> None:
        self.stdout.write(
            f"read {link_import.rows_read}, imported {link_import.rows_imported}, "
            f"new {link_import.rows_new}, "
            f"lost {link_import.rows_lost}, skipped {link_import.rows_skipped}"
        )
        lines = [
            f"line {e['line']}, {e['field']}: {e['message']}" for e in link_import.row_errors[:ERRORS_SHOWN]
        ]
        if link_import.rows_skipped > len(lines):
            lines.append(f"... {link_import.rows_skipped - len(lines)} more skipped rows")
        if link_import.status == ImportStatus.SUCCEEDED:
            for line in lines:
                self.stdout.write(f"skipped: {line}")
            self.stdout.write(self.style.SUCCESS(f"import {link_import.id} succeeded"))
            return
        for line in lines:
            self.stderr.write(line)
        raise CommandError(f"import {link_import.id} {link_import.status}: {link_import.error}")
