"""The staff's forms: a resource (its place among the user's compounds, its booking rules) and a blackout."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from resources.models import ApproverGroup, EligibilityRule, Resource

__all__ = ["BlackoutForm", "ResourceForm"]

FIELDS = ["kind", "mode", "name", "code", "parent", "compound", "owner_name", "location", "lat", "lng", "description",
          "capacity", "opens_at", "closes_at", "weekdays", "closed_on_holidays", "workdays_only", "start_times",
          "sitting_minutes", "raster_minutes", "min_minutes", "max_minutes", "horizon_days", "buffer_minutes",
          "needs_approval", "approver_group", "requires_checkin", "grace_minutes", "cancel_minutes", "strike_limit",
          "strike_days", "hold_hours", "rule", "is_active"]


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
        self.fields["approver_group"].queryset = ApproverGroup.objects.restrict(user, "view").order_by("name")
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
        group, compound = data.get("approver_group"), data.get("compound")
        if group is not None and compound is not None and (
                group.street_id != compound.street_id
                or (group.community_id and group.community_id != compound.community_id)):
            self.add_error("approver_group", _("审批组须属于资源所在的社区或街道"))
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


class WindowForm(forms.Form):
    label = forms.CharField(label=_("名称"), max_length=64, initial=_("夜间"))
    starts = forms.TimeField(label=_("开始"), widget=forms.TimeInput(attrs={"type": "time"}), initial=dt.time(19))
    ends = forms.TimeField(label=_("结束（早于开始表示次日）"), widget=forms.TimeInput(attrs={"type": "time"}),
                           initial=dt.time(8))
    weekdays = forms.CharField(label=_("星期"), max_length=7, initial="1234567")
    rule = forms.ModelChoiceField(label=_("预约资格"), queryset=EligibilityRule.objects.order_by("name"))

    def clean_weekdays(self) -> str:
        text = "".join(sorted(set(self.cleaned_data.get("weekdays") or "")))
        if not text or any(c not in "1234567" for c in text):
            raise forms.ValidationError(_("开放星期用 1 至 7 表示（1=周一），如 12345"))
        return text

    def clean(self):
        data = super().clean()
        if data.get("starts") and data.get("starts") == data.get("ends"):
            self.add_error("ends", _("结束不能等于开始"))
        return data


class QuotaForm(forms.Form):
    from resources.choices import Period, Subject

    subject = forms.ChoiceField(label=_("对象"), choices=Subject.choices)
    period = forms.ChoiceField(label=_("周期"), choices=Period.choices)
    limit = forms.IntegerField(label=_("上限"), min_value=1, max_value=10000)


class RuleForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100)
    residents_of = forms.ModelMultipleChoiceField(label=_("限以下小区现住居民"), required=False, queryset=None)
    employees_in = forms.ModelMultipleChoiceField(label=_("限以下楼宇企业员工"), required=False, queryset=None)
    needs_vehicle = forms.BooleanField(label=_("须有登记车辆"), required=False)
    min_age = forms.IntegerField(label=_("最小年龄"), required=False, min_value=0, max_value=150)
    max_age = forms.IntegerField(label=_("最大年龄"), required=False, min_value=0, max_value=150)

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from places.models import Compound

        compounds = Compound.objects.restrict(user, "view").order_by("name")
        self.fields["residents_of"].queryset = compounds.exclude(kind="office")
        self.fields["employees_in"].queryset = compounds

    def clean(self):
        data = super().clean()
        low, high = data.get("min_age"), data.get("max_age")
        if low is not None and high is not None and low > high:
            self.add_error("max_age", _("最大年龄不能小于最小年龄"))
        return data
