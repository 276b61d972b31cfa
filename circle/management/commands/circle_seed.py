from django.core.management.base import BaseCommand

from circle.models import Category
from circle.seed import seed_categories


class Command(BaseCommand):
    help = "补齐生活圈设施类别（不覆盖已修改的类别）/ add missing facility categories"

    def handle(self, *args, **options):
        self.stdout.write(f"{seed_categories(Category)} categories created")
