"""``manage.py purge_audit``: delete audit rows past the retention period (also a django-tasks task)."""

from django.core.management.base import BaseCommand

from core.audit import purge, retention_days


class Command(BaseCommand):
    help = "Delete audit rows older than RENFANG_AUDIT_RETENTION_DAYS (never fewer than 180 days)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--enqueue", action="store_true", help="enqueue the django-tasks job instead")

    def handle(self, *args, enqueue: bool = False, **options) -> None:
        if enqueue:
            from core.tasks import purge_audit

            result = purge_audit.enqueue()
            self.stdout.write(f"enqueued purge_audit ({result.id})")
            return
        n = purge()
        self.stdout.write(f"purged {n} audit rows older than {retention_days()} days")
