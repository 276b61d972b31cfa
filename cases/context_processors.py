"""The banner for whoever keeps the holiday table: the years deadlines will count in that have no holidays entered
(``cases.holidays.missing_years``; checked only for users who may add holidays)."""

from __future__ import annotations

from core.scope import scope_for

__all__ = ["holiday_banner"]


def holiday_banner(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not scope_for(user).has("cases.add_holiday"):
        return {}
    from cases.holidays import missing_years

    return {"holidays_missing": missing_years()}
