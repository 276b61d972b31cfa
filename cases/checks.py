"""System check of the holiday table: ``cases.W001`` when a year that deadlines will soon count in has no official
holidays entered (``cases.holidays.missing_years``). Tagged ``database``: it runs on ``migrate`` and on
``check --deploy --database default``."""

from __future__ import annotations

from django.core.checks import Tags, Warning, register

__all__ = ["holidays_entered"]


@register(Tags.database, deploy=True)
def holidays_entered(app_configs=None, databases=None, **kwargs) -> list:
    if not databases:
        return []
    from cases.holidays import missing_years, package_years

    out = []
    for year in missing_years():
        known = year in package_years()
        out.append(Warning(
            f"节假日表没有 {year} 年的放假安排，办理期限会把节假日算作工作日 / "
            f"no official holidays entered for {year}: case deadlines would count them as working days",
            hint=(f"python manage.py load_holidays {year}" if known else
                  f"Enter the State Council's {year} arrangement (days off and 调休 workdays) on /cases/holidays/ "
                  f"or with manage.py load_holidays once the chinesecalendar package knows {year}."),
            id="cases.W001"))
    return out
