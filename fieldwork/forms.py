"""Forms of the workbench and the review pages. They collect input; fieldwork.services validates (the person
fields are people.forms' own, checked again by people.services.clean_person_data)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from people.forms import DATE, MoveInForm
from places.choices import HouseUse

__all__ = ["AssignForm", "NewPersonForm", "RejectForm", "VisitForm"]


class NewPersonForm(MoveInForm):
    """A new or an already registered person moving in: people's own move-in form, under the prefix ``new``."""


class VisitForm(forms.Form):
    client_id = forms.UUIDField(widget=forms.HiddenInput)
    house_version = forms.IntegerField(widget=forms.HiddenInput)
    unchanged = forms.BooleanField(label=_("全户无变化"), required=False)
    not_home = forms.BooleanField(label=_("无人在家"), required=False)
    move_out = forms.TypedMultipleChoiceField(label=_("迁出人员"), required=False, coerce=int,
                                              widget=forms.CheckboxSelectMultiple)
    moved_out = forms.DateField(label=_("迁出日期"), required=False, widget=DATE)
    move_out_reason = forms.CharField(label=_("迁出原因"), required=False, max_length=100)
    add_person = forms.BooleanField(label=_("登记新住户"), required=False)
    householder = forms.TypedChoiceField(label=_("新户主"), required=False, coerce=int, empty_value=None)
    new_use = forms.ChoiceField(label=_("房屋用途改为"), required=False)
    phone_person = forms.TypedChoiceField(label=_("更正电话的人员"), required=False, coerce=int, empty_value=None)
    phone_new = forms.CharField(label=_("新的联系电话"), required=False, max_length=20,
                                widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}))
    note = forms.CharField(label=_("走访记录"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 3}))
    photo = forms.FileField(label=_("照片"), required=False,
                            widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp",
                                                                   "capture": "environment"}))

    def __init__(self, *args, residents=(), house=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        people = [(r.person_id, r.person.name) for r in residents]
        self.fields["move_out"].choices = people
        self.fields["householder"].choices = [("", "—")] + people
        self.fields["phone_person"].choices = [("", "—")] + people
        uses = [(k, v) for k, v in HouseUse.choices if house is None or k != house.use]
        self.fields["new_use"].choices = [("", _("不变"))] + uses
        self.fields["moved_out"].initial = timezone.localdate()

    def clean(self):
        data = super().clean()
        if data.get("phone_person") and not data.get("phone_new"):
            self.add_error("phone_new", _("请填写新的联系电话"))
        if data.get("phone_new") and not data.get("phone_person"):
            self.add_error("phone_person", _("请选择要更正电话的人员"))
        return data


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("驳回理由"), max_length=300)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class AssignForm(forms.Form):
    houses = forms.TypedMultipleChoiceField(label=_("房屋"), coerce=int, error_messages={
        "required": _("请勾选要分派的房屋")})
    worker = forms.TypedChoiceField(label=_("分派给"), coerce=int)

    def __init__(self, *args, workers=(), houses=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["houses"].choices = [(h, h) for h in houses]
        self.fields["worker"].choices = [(u.pk, u.get_full_name() or u.get_username()) for u in workers]

    def house_ids(self) -> list[int]:
        return list(self.cleaned_data["houses"])
