"""The staff's forms: a resource (its place among the user's compounds, its booking rules) and a blackout."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from resources.models import EligibilityRule, Resource

__all__ = ["BlackoutForm", "ResourceForm"]

FIELDS = ["kind", "mode", "name", "code", "parent", "compound", "owner_name", "location", "lat", "lng", "description",
          "capacity", "opens_at", "closes_at", "weekdays", "closed_on_holidays", "workdays_only", "start_times",
          "sitting_minutes", "raster_minutes", "min_minutes", "max_minutes", "horizon_days", "buffer_minutes",
          "needs_approval", "requires_checkin", "grace_minutes", "cancel_minutes", "strike_limit", "strike_days",
          "hold_hours", "rule", "is_active"]


class ResourceForm(forms.ModelForm):
    start_times = forms.CharField(label=_("场次/班次时间"), required=False,
                                  help_text=_("按场次预约时填写，用逗号分隔，如 11:00,11:45,12:30"))

    class Meta:
        model = Resource
        fields = FIELDS
        widgets = {"opens_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
                   "closes_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
                   "description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from places.models import Compound

        self.fields["compound"].queryset = Compound.objects.restrict(user, "view").order_by("name")
        parents = Resource.objects.restrict(user, "change").filter(parent__isnull=True).order_by("name")
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = parents
        self.fields["rule"].queryset = EligibilityRule.objects.order_by("name")
        if not self.is_bound:  # the list shown as the text it is typed as (a new resource's [] as nothing)
            self.initial["start_times"] = ",".join(self.instance.start_times or [])

    def clean_start_times(self) -> list[str]:
        text = (self.cleaned_data.get("start_times") or "").replace("，", ",")
        out = []
        for part in [p.strip() for p in text.split(",") if p.strip()]:
            try:
                t = dt.time.fromisoformat(part if len(part) > 4 else f"0{part}")
            except ValueError:
                raise forms.ValidationError(_("“%(t)s”不是时间，请写成 11:30 这样") % {"t": part[:10]}) from None
            out.append(f"{t:%H:%M}")
        return sorted(set(out))

    def clean_weekdays(self) -> str:
        text = "".join(sorted(set((self.cleaned_data.get("weekdays") or "").replace(",", ""))))
        if not text or any(c not in "1234567" for c in text):
            raise forms.ValidationError(_("开放星期用 1 至 7 表示（1=周一），如 12345"))
        return text

    def clean(self):
        data = super().clean()
        mode, kind = data.get("mode"), data.get("kind")
        if mode == "seats" and not data.get("start_times"):
            self.add_error("start_times", _("按场次座位预约须填写场次时间"))
        if data.get("min_minutes") and data.get("max_minutes") and data["min_minutes"] > data["max_minutes"]:
            self.add_error("max_minutes", _("最长不能短于最短"))
        raster = data.get("raster_minutes")
        if raster and raster % 15:
            self.add_error("raster_minutes", _("预约粒度须是15分钟的整数倍"))
        parent = data.get("parent")
        if parent is not None and data.get("compound") and parent.compound_id != data["compound"].pk:
            self.add_error("parent", _("上级资源须在同一个小区/楼宇"))
        if kind == "parking_space" and parent is not None and parent.mode != "group":
            self.add_error("parent", _("车位的上级须是停车场（分组）"))
        return data


class BlackoutForm(forms.Form):
    starts_at = forms.DateTimeField(label=_("开始"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    ends_at = forms.DateTimeField(label=_("结束"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    reason = forms.CharField(label=_("原因"), max_length=100)
    cancel = forms.BooleanField(label=_("取消这段时间内已有的预约并通知预约人"), required=False)

    def clean(self):
        data = super().clean()
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", _("结束须晚于开始"))
        return data
