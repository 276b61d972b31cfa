"""``manage.py verify_audit``: walk the audit hash chain; exit code 1 and the first bad id when it is broken."""

from django.core.management.base import BaseCommand, CommandError

from core.audit import verify_chain


class Command(BaseCommand):
    help = "Verify the audit log's hash chain (exit code 1 and the first bad row's id when it is broken)."

    def handle(self, *args, **options) -> None:
        ok, bad_id, checked = verify_chain()
        if not ok:
            raise CommandError(f"audit chain broken at id {bad_id} (after {checked} good rows)", returncode=1)
        self.stdout.write(f"audit chain ok: {checked} rows")
