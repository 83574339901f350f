"""Load the demo workspace: idempotent, so every `make run` may call it."""

from django.core.management.base import BaseCommand

from prospects import demo as prospects_demo


class Command(BaseCommand):
    help = "Create or refresh the demo workspace (safe to run repeatedly)."

    def handle(self, *args, **options) -> None:
        # Each app loads its own part, in dependency order (audit, prospects, outreach).
        project = prospects_demo.load()
        self.stdout.write(f"Demo workspace ready: project '{project.name}'.")
