"""Fill the holiday table from the chinesecalendar package: ``manage.py load_holidays 2027`` (default: this year
and the next). Days already in the table are kept as they are; a year the package does not know is reported."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from cases.holidays import load_year, package_years

__all__ = ["Command"]


class Command(BaseCommand):
    help = "Load the official holidays and 调休 workdays of the given years from the chinesecalendar package."

    def add_arguments(self, parser) -> None:
        parser.add_argument("years", nargs="*", type=int)

    def handle(self, *args, years: list[int], **options) -> None:
        today = timezone.localdate()
        years = years or [today.year, today.year + 1]
        known = package_years()
        for year in years:
            added = load_year(year)
            if added is None:
                self.stdout.write(f"{year}: chinesecalendar 不含该年安排，请在 /cases/holidays/ 手工录入 / "
                                  f"not in the package (latest {max(known)}): enter it by hand")
            else:
                self.stdout.write(f"{year}: {added} 天已加入 / days added")
