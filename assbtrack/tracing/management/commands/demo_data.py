"""``manage.py demo_data``: load the demo project, users and chain (once; a second run changes nothing)."""

from django.core.management.base import BaseCommand

from assbtrack.tracing.demo import DEMO_ADMIN, DEMO_USERS, demo_load


class Command(BaseCommand):
    help = "Load demo users and a demo chain of traced items (idempotent)."

    def handle(self, *args, **options) -> None:
        context = demo_load()
        for line in context.log:
            self.stdout.write(f"  {line}")
        self.stdout.write(self.style.SUCCESS("Demo users (username / password, role):"))
        admin_name, admin_password = DEMO_ADMIN
        self.stdout.write(f"  {admin_name} / {admin_password}  (superuser)")
        for username, password, role, organisation in DEMO_USERS:
            where = f", {organisation}" if organisation else ""
            self.stdout.write(f"  {username} / {password}  ({role}{where})")
