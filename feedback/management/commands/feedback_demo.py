"""Print where the QR feedback pages of the demo are: the sheet of each compound of the demo community officer's
community, and one building's public report page. Read-only (nothing to fill: reports come from residents)."""
from django.core.management.base import BaseCommand
from django.urls import reverse

from feedback.tokens import building_token
from places.models import Building, Compound


class Command(BaseCommand):
    help = "Print the QR sheet URLs and one public report URL of the demo (read-only)"

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")
        parser.add_argument("--seed", type=int, default=0, help="accepted for make demo; the output is fixed")
        parser.add_argument("--limit", type=int, default=5)

    def handle(self, *args, base_url, limit, **options):
        from core.models import Grant

        base = base_url.rstrip("/")
        grant = Grant.objects.filter(user__username="community", role__code="community_officer").first()
        compounds = Compound.objects.order_by("name_pinyin", "id")
        if grant is not None and grant.community_id:
            compounds = compounds.filter(community_id=grant.community_id)
        compounds = list(compounds[:limit])
        if not compounds:
            self.stdout.write("no compound: run manage.py demo first")
            return
        self.stdout.write(f"QR sheets (log in as 'community'): {base}{reverse('feedback:index')}")
        for c in compounds:
            self.stdout.write(f"  {c.name}: {base}{reverse('feedback:sheet', args=[c.pk])}")
        b = Building.objects.filter(compound=compounds[0]).order_by("number", "id").first()
        if b is not None:
            url = base + reverse("feedback:report", args=[building_token(b)])
            self.stdout.write(f"Public report page of {b}: {url}")
        self.stdout.write("Codes go to the SMS backend (RENFANG_SMS_BACKEND; file backend: RENFANG_SMS_FILE).")
