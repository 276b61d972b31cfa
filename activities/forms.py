"""The organiser's forms: an activity (its grid among the user's places, audience rules, capacity, sign-up
window, how places are given, the certificate's threshold) and one session (a date, a place, optionally a room of
the shared resources booked for it)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from activities.models import Activity

__all__ = ["ActivityForm", "PhotoForm", "SessionForm"]

FIELDS = ["title", "organiser_kind", "partner_name", "contact", "description", "grid",
          "audience_communities", "min_age", "max_age", "audience_tags", "capacity", "max_family", "signup_opens",
          "signup_closes", "mode", "allocation_rule", "organiser_children_first", "hold_hours", "certificate_min",
          "summary"]
DT = {"type": "datetime-local"}
DT_FORMAT = "%Y-%m-%dT%H:%M"


class ChildrenFirstSelect(forms.NullBooleanSelect):
    """Unset (on for allocation-based classes), yes, no: said in the activities' own words."""

    def __init__(self, attrs=None) -> None:
        super().__init__(attrs)
        self.choices = [("unknown", pgettext_lazy("activities", "默认（统一分配时开启）")),
                        ("true", pgettext_lazy("activities", "开启")), ("false", pgettext_lazy("activities", "关闭"))]


class ActivityForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Activity
        fields = FIELDS
        widgets = {"description": forms.Textarea(attrs={"rows": 3}), "summary": forms.Textarea(attrs={"rows": 4}),
                   "signup_opens": forms.DateTimeInput(attrs=DT, format=DT_FORMAT),
                   "signup_closes": forms.DateTimeInput(attrs=DT, format=DT_FORMAT),
                   "audience_communities": forms.CheckboxSelectMultiple,
                   "audience_tags": forms.CheckboxSelectMultiple,
                   "organiser_children_first": ChildrenFirstSelect}

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from people.models import Tag
        from places.models import Community, Grid

        self.fields["grid"].queryset = Grid.objects.restrict(user, "view").select_related("community").order_by(
            "community_id", "code")
        self.fields["audience_communities"].queryset = Community.objects.order_by("street_id", "id")
        self.fields["audience_tags"].queryset = Tag.objects.order_by("name")
        self.fields["summary"].help_text = pgettext_lazy("activities", "活动结束后填写，用于打印活动简报")
        if not self.is_bound and self.instance.pk:
            self.initial["version"] = self.instance.version

    def clean(self):
        data = super().clean()
        lo, hi = data.get("min_age"), data.get("max_age")
        if lo is not None and hi is not None and lo > hi:
            self.add_error("max_age", pgettext_lazy("activities", "最大年龄不能小于最小年龄"))
        a, b = data.get("signup_opens"), data.get("signup_closes")
        if a and b and b <= a:
            self.add_error("signup_closes", pgettext_lazy("activities", "报名截止须晚于报名开始"))
        if data.get("organiser_kind") == "partner" and not (data.get("partner_name") or "").strip():
            self.add_error("partner_name", pgettext_lazy("activities", "合作单位主办时请填写单位名称"))
        if data.get("capacity") == 0:
            self.add_error("capacity", pgettext_lazy("activities", "名额至少为1"))
        return data


class SessionForm(forms.Form):
    day = forms.DateField(label=pgettext_lazy("activities", "日期"), widget=forms.DateInput(attrs={"type": "date"}))
    starts = forms.TimeField(label=pgettext_lazy("activities", "开始"), widget=forms.TimeInput(attrs={"type": "time"}))
    ends = forms.TimeField(label=pgettext_lazy("activities", "结束"), widget=forms.TimeInput(attrs={"type": "time"}))
    repeat = forms.IntegerField(label=pgettext_lazy("activities", "每周重复(次)"), min_value=1, max_value=30,
                                initial=1, required=False,
                                help_text=pgettext_lazy("activities", "系列活动：同一时间每周一次，共几次"))
    place = forms.CharField(label=pgettext_lazy("activities", "地点"), max_length=100, required=False)
    topic = forms.CharField(label=pgettext_lazy("activities", "本场内容"), max_length=100, required=False)
    resource = forms.ModelChoiceField(label=pgettext_lazy("activities", "预约共享场地"), queryset=None,
                                      required=False, help_text=pgettext_lazy(
                                          "activities", "选择后通过共享资源预约该场地，不会重复占用"))

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from resources.models import Resource

        self.fields["resource"].queryset = Resource.objects.restrict(user, "view").filter(
            kind__in=["room", "space", "zone"], is_active=True).select_related("parent").order_by("name")

    def clean(self):
        data = super().clean()
        if data.get("starts") and data.get("ends") and data["ends"] <= data["starts"]:
            self.add_error("ends", pgettext_lazy("activities", "结束时间须晚于开始时间"))
        return data

    def spans(self) -> list[tuple[dt.datetime, dt.datetime]]:
        d = self.cleaned_data
        out = []
        for i in range(d.get("repeat") or 1):
            day = d["day"] + dt.timedelta(weeks=i)
            out.append((timezone.make_aware(dt.datetime.combine(day, d["starts"])),
                        timezone.make_aware(dt.datetime.combine(day, d["ends"]))))
        return out


class PhotoForm(forms.Form):
    image = forms.FileField(label=pgettext_lazy("activities", "照片"))
    caption = forms.CharField(label=pgettext_lazy("activities", "说明"), max_length=100, required=False)
