"""The holiday table for the system administrator: one year's days off and 调休 workdays, a day added or removed,
a year loaded from the chinesecalendar package where it knows it. Needs ``cases.view_holiday`` to read and
``cases.add_holiday`` / ``cases.delete_holiday`` to write; every write goes through ``cases.holidays``."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from cases import holidays
from cases.models import Holiday
from core.scope import scope_for

__all__ = ["HolidayListView"]


class HolidayListView(LoginRequiredMixin, View):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not scope_for(request.user).has("cases.view_holiday"):
            raise PermissionDenied(_("您没有查看节假日表的权限"))
        return super().dispatch(request, *args, **kwargs)

    def _year(self, request) -> int:
        raw = request.GET.get("year") or request.POST.get("year") or ""
        today = timezone.localdate()
        default = today.year + 1 if today.month == 12 else today.year
        return int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else default

    def get(self, request, error: str = "", status: int = 200):
        year = self._year(request)
        scope = scope_for(request.user)
        return render(request, "cases/holidays.html", {
            "title": _("节假日与调休"), "year": year, "rows": Holiday.objects.filter(date__year=year),
            "years": [year - 1, year, year + 1], "in_package": year in holidays.package_years(),
            "may_edit": scope.has("cases.add_holiday"), "may_delete": scope.has("cases.delete_holiday"),
            "missing": holidays.missing_years(), "error": error}, status=status)

    def post(self, request):
        scope = scope_for(request.user)
        year = self._year(request)
        action = request.POST.get("action", "")
        if action == "delete":
            if not scope.has("cases.delete_holiday"):
                raise PermissionDenied(_("您没有删除节假日的权限"))
            holidays.delete_day(request.user, get_object_or_404(Holiday, pk=request.POST.get("pk")))
        else:
            if not scope.has("cases.add_holiday"):
                raise PermissionDenied(_("您没有录入节假日的权限"))
            if action == "load":
                if holidays.load_year(year, request.user) is None:
                    return self.get(request, _("%(y)s 年：chinesecalendar 尚无该年安排，请逐日录入") % {"y": year}, 400)
            else:
                try:
                    day = dt.date.fromisoformat(request.POST.get("date", ""))
                except ValueError:
                    return self.get(request, _("日期：请填写 年-月-日，例如 2027-01-01"), 400)
                name = request.POST.get("name", "").strip()
                if not name:
                    return self.get(request, _("名称：请填写节日名称，例如 元旦"), 400)
                holidays.add_day(request.user, day, name, request.POST.get("is_workday") == "1")
                year = day.year
        return redirect(f"{reverse('cases:holidays')}?year={year}")
