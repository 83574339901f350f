"""Create the role groups and, on a fresh database, the first admin account."""

from django.core.management.base import BaseCommand

from linkcrm.schedules import schedules_sync
from linkcrm.services import first_admin_ensure


class Command(BaseCommand):
    help = "Create roles and the first admin account (password printed once)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username: str, **options) -> None:
        schedules_sync()
        user, password = first_admin_ensure(username=username)
        if password:
            self.stdout.write(
                self.style.SUCCESS("First admin account created. This password is shown only now:")
            )
            self.stdout.write(f"    login: {user.get_username()}\n    password: {password}")
        else:
            self.stdout.write(
                f"Log in as {user.get_username()} (password shown at first start). Forgotten? "
                f"make manage ARGS=\"changepassword {user.get_username()}\""
            )
