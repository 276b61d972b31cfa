"""Forms of joint meetings and enterprise services. Dropdowns are restricted to the user's places."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from meetings.choices import NeedCategory, OrgKind
from meetings.models import InstructorAssignment, Organisation

__all__ = ["AssignForm", "GovServiceForm", "InstructorForm", "MeetingForm", "NeedForm", "OrgForm", "ProgressForm",
           "ResolutionForm", "VisitForm"]


class MultiFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiFileField(forms.FileField):
    widget = MultiFileInput

    def clean(self, data, initial=None):
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultiFileField, self).clean(f, initial) for f in files]


def _day():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _clock():
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def _orgs(user):
    return Organisation.objects.restrict(user, "view").filter(is_active=True).order_by("kind", "name")


class OrgForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=OrgKind.choices)
    name = forms.CharField(label=_("名称"), max_length=128, required=False,
                           help_text=_("选择登记企业时可留空，沿用企业名称"))
    enterprise = forms.ModelChoiceField(label=_("登记企业"), queryset=None, required=False)
    compound = forms.ModelChoiceField(label=_("所在小区/楼宇"), queryset=None, required=False)
    community = forms.ModelChoiceField(label=_("所在社区"), queryset=None, required=False)
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    contact_name = forms.CharField(label=_("联系人"), max_length=64, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=20, required=False,
                                    help_text=_("保存后只显示脱敏号码；留空表示不修改"))
    note = forms.CharField(label=_("备注"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        from people.models import Enterprise
        from places.models import Community, Compound

        self.fields["enterprise"].queryset = Enterprise.objects.restrict(user, "view").order_by("name")
        self.fields["compound"].queryset = Compound.objects.restrict(user, "view").order_by("name")
        self.fields["community"].queryset = Community.objects.restrict(user, "view").order_by("name")


class MeetingForm(forms.Form):
    title = forms.CharField(label=_("议题概要"), max_length=200)
    day = forms.DateField(label=_("日期"), widget=_day())
    starts = forms.TimeField(label=_("开始"), initial=dt.time(14, 0), widget=_clock())
    ends = forms.TimeField(label=_("结束"), initial=dt.time(16, 0), widget=_clock())
    location = forms.CharField(label=_("地点"), max_length=128, required=False)
    room = forms.ModelChoiceField(label=_("预约会议室"), queryset=None, required=False,
                                  help_text=_("通过共享资源预约，不会与他人重复"))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        from resources.models import Resource

        self.fields["room"].queryset = Resource.objects.restrict(user, "view").filter(
            kind="space", mode="exclusive", is_active=True).order_by("name")
        self.fields["day"].initial = timezone.localdate() + dt.timedelta(days=7)


class ResolutionForm(forms.Form):
    title = forms.CharField(label=_("决议事项"), max_length=200)
    detail = forms.CharField(label=_("具体要求"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    owner = forms.ModelChoiceField(label=_("责任单位"), queryset=None, required=False,
                                   help_text=_("留空则先记录，稍后交办"))
    assisting = forms.ModelMultipleChoiceField(label=_("协办单位"), queryset=None, required=False)
    proposer = forms.ModelChoiceField(label=_("提出方（确认办结）"), queryset=None, required=False)
    deadline_days = forms.IntegerField(label=_("办理时限(工作日)"), min_value=1, max_value=250, required=False)
    project = forms.ModelChoiceField(label=_("共建项目"), queryset=None, required=False)
    weight = forms.IntegerField(label=_("权重"), min_value=1, max_value=100, initial=1, required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        from meetings.models import Project

        for name in ("owner", "assisting", "proposer"):
            self.fields[name].queryset = _orgs(user)
        self.fields["project"].queryset = Project.objects.restrict(user, "view").order_by("name")


class AssignForm(forms.Form):
    owner = forms.ModelChoiceField(label=_("责任单位"), queryset=None)
    assisting = forms.ModelMultipleChoiceField(label=_("协办单位"), queryset=None, required=False)
    deadline_days = forms.IntegerField(label=_("办理时限(工作日)"), min_value=1, max_value=250)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _orgs(user)
        self.fields["assisting"].queryset = _orgs(user)


class ProgressForm(forms.Form):
    progress = forms.IntegerField(label=_("进度(%)"), min_value=0, max_value=100, required=False)
    note = forms.CharField(label=_("进展说明"), widget=forms.Textarea(attrs={"rows": 3}))
    evidence = MultiFileField(label=_("佐证材料（照片、PDF）"), required=False)
    done = forms.BooleanField(label=_("已办结，报请提出方确认"), required=False)


class NeedForm(forms.Form):
    category = forms.ChoiceField(label=_("诉求类别"), choices=NeedCategory.choices)
    title = forms.CharField(label=_("诉求"), max_length=200)
    detail = forms.CharField(label=_("详细情况"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


class VisitForm(forms.Form):
    visited_on = forms.DateField(label=_("走访日期"), widget=_day())
    met = forms.CharField(label=_("接待人"), max_length=64, required=False)
    note = forms.CharField(label=_("走访情况"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["visited_on"].initial = timezone.localdate()


class InstructorForm(forms.Form):
    user = forms.ModelChoiceField(label=_("服务人员"), queryset=None)
    role = forms.ChoiceField(label=_("身份"), choices=InstructorAssignment.Role.choices)

    def __init__(self, *args, enterprise=None, **kwargs):
        super().__init__(*args, **kwargs)
        from django.contrib.auth import get_user_model
        from django.db.models import Q

        from core.models import Grant

        here = Q(community_id=enterprise.community_id) | Q(grid_id=enterprise.grid_id) if enterprise else Q()
        ids = Grant.objects.filter(here, role__code__in=["grid_worker", "community_officer"]).values("user_id")
        self.fields["user"].queryset = get_user_model().objects.filter(pk__in=ids, is_active=True).order_by(
            "username")


class GovServiceForm(forms.Form):
    compound = forms.ModelChoiceField(label=_("所在楼宇"), queryset=None)
    name = forms.CharField(label=_("服务事项"), max_length=128)
    department = forms.CharField(label=_("办理部门"), max_length=128)
    counter = forms.CharField(label=_("窗口/地点"), max_length=64, required=False)
    on_date = forms.DateField(label=_("日期"), required=False, widget=_day())
    weekdays = forms.CharField(label=_("每周"), max_length=7, required=False, help_text=_("1=周一 … 7=周日"))
    starts = forms.TimeField(label=_("开始"), widget=_clock())
    ends = forms.TimeField(label=_("结束"), widget=_clock())
    needs_appointment = forms.BooleanField(label=_("须预约"), required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        from places.models import Compound

        self.fields["compound"].queryset = Compound.objects.restrict(user, "view").filter(kind="office")
