"""``manage.py toxicity_agreement FILE``: import a Semrush Backlink Audit export into a scratch
site, score it without provider markers, print the agreement table of docs/toxicity.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from audit.choices import ImportStatus
from audit.services import link_import_run, link_import_store, site_get_or_create
from audit.toxicity_agreement import agreement, markdown


class Command(BaseCommand):
    help = "Compare our toxicity score with Semrush's Toxic Score on a Backlink Audit export (rolled back)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--site", default="caldea.com", help="the audited site's domain")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        with transaction.atomic():
            site = site_get_or_create(domain_or_url=options["site"])
            with path.open("rb") as handle:
                stored = link_import_store(site=site, uploaded_file=File(handle, name=path.name), created_by=None)
            done = link_import_run(import_id=stored.id)
            if done.status != ImportStatus.SUCCEEDED:
                raise CommandError(f"the import failed: {done.error}")
            self.stdout.write(markdown(agreement(site)))
            transaction.set_rollback(True)  # a measurement, not data
