from django.core.management.base import BaseCommand

from circle.services import recompute


class Command(BaseCommand):
    help = "重新计算每个小区到各类设施的步行距离 / recompute nearest facilities for every compound"

    def handle(self, *args, **options):
        self.stdout.write(str(recompute()))
