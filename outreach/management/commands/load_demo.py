"""Load the demo workspace: idempotent, so every `make run` may call it."""

from django.core.management.base import BaseCommand

from audit import demo as audit_demo
from outreach import demo as outreach_demo
from prospects import demo as prospects_demo
from prospects import demo_pipeline


class Command(BaseCommand):
    help = "Create or refresh the demo workspace (safe to run repeatedly)."

    def handle(self, *args, **options) -> None:
        # Each app loads its own part, in dependency order (audit, prospects, outreach).
        sites = audit_demo.load()
        self.stdout.write(f"Demo link profiles ready: {', '.join(site.domain for site in sites)}.")
        project = prospects_demo.load()
        demo_pipeline.load(project)
        self.stdout.write(f"Demo workspace ready: project '{project.name}' with its pipeline.")
        mailbox = outreach_demo.load(project)
        self.stdout.write(f"Demo outreach ready: mailbox {mailbox.email} on the local sandbox, a 3-step sequence.")
