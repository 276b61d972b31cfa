"""The resident's report form. Names and ID numbers go through the same validation as the people forms
(``people.services.clean_person_data``); the phone through ``core.validators.validate_mobile``."""
from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.validators import validate_mobile
from people.choices import IdType
from people.services import PersonData, clean_person_data

MAX_PEOPLE = 4
KINDS = [("move_in", _("有人搬入")), ("move_out", _("有人搬走")), ("correction", _("信息有误，需要更正"))]
ID_TYPES = [(IdType.RESIDENT_ID, _("居民身份证")), (IdType.PASSPORT, _("护照")),
            (IdType.HK_MACAU, _("港澳居民来往内地通行证")), (IdType.TAIWAN, _("台湾居民来往大陆通行证"))]


def room_label(house) -> str:
    from django.utils.translation import gettext

    return gettext("%(unit)s单元 %(room)s") % {"unit": house.unit, "room": house.room} if house.unit else house.room


def room_key(house) -> str:
    return f"{house.unit}|{house.room}"


class ReportForm(forms.Form):
    room = forms.ChoiceField(label=_("房号"))
    kind = forms.ChoiceField(label=_("反馈内容"), choices=KINDS, widget=forms.RadioSelect)
    moved_in = forms.DateField(label=_("搬入日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    out_name = forms.CharField(label=_("搬走人员姓名"), max_length=64, required=False)
    moved_out = forms.DateField(label=_("搬走日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    text = forms.CharField(label=_("说明"), max_length=500, required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))
    phone = forms.CharField(label=_("您的手机号"), max_length=20,
                            widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
                            help_text=_("用于接收验证码，社区核实时可能与您联系"))
    # The honeypot: hidden from people by CSS, filled by bots.
    website = forms.CharField(label=_("网址"), required=False,
                              widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}))

    def __init__(self, *args, rooms: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["room"].choices = [("", _("请选择房号"))] + rooms
        for i in range(1, MAX_PEOPLE + 1):
            self.fields[f"name_{i}"] = forms.CharField(label=_("姓名"), max_length=64, required=False)
            self.fields[f"id_type_{i}"] = forms.ChoiceField(label=_("证件类型"), choices=ID_TYPES, required=False)
            self.fields[f"id_number_{i}"] = forms.CharField(label=_("证件号码"), max_length=32, required=False)

    def people_rows(self):
        return [(self[f"name_{i}"], self[f"id_type_{i}"], self[f"id_number_{i}"], i)
                for i in range(1, MAX_PEOPLE + 1)]

    def clean_phone(self) -> str:
        return validate_mobile(self.cleaned_data.get("phone")).value

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        today = timezone.localdate()
        for name in ("moved_in", "moved_out"):
            if data.get(name) and data[name] > today:
                self.add_error(name, _("%(f)s不能晚于今天") % {"f": self.fields[name].label})
        if kind == "move_in":
            people = []
            for i in range(1, MAX_PEOPLE + 1):
                name = (data.get(f"name_{i}") or "").strip()
                number = (data.get(f"id_number_{i}") or "").strip()
                if not name and not number:
                    continue
                if not number:
                    self.add_error(f"id_number_{i}", _("第%(i)d位搬入人员的证件号码不能为空") % {"i": i})
                    continue
                pd = PersonData(name=name, id_type=data.get(f"id_type_{i}") or IdType.RESIDENT_ID, id_number=number)
                try:
                    clean_person_data(pd, accept_warnings=True)
                except ValidationError as exc:
                    for field, messages in exc.message_dict.items():
                        target = {"name": f"name_{i}", "id_number": f"id_number_{i}"}.get(field, f"id_number_{i}")
                        for m in messages:
                            self.add_error(target, _("第%(i)d位：%(m)s") % {"i": i, "m": m})
                    continue
                people.append({"name": pd.name, "id_type": pd.id_type, "id_number": pd.id_number})
            if not people and not self.errors:
                self.add_error("name_1", _("请填写至少一位搬入人员的姓名和证件号码"))
            numbers = [(p["id_type"], p["id_number"]) for p in people]
            if len(set(numbers)) != len(numbers):
                self.add_error("id_number_1", _("同一个证件号码填写了两次"))
            data["people"] = people
        elif kind == "move_out":
            if not (data.get("out_name") or "").strip():
                self.add_error("out_name", _("请填写搬走人员的姓名"))
        elif kind == "correction":
            if not (data.get("text") or "").strip():
                self.add_error("text", _("请说明需要更正的内容"))
        return data
