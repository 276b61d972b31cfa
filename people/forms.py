"""Forms of the people pages. They collect input; people.services validates (one path for form, API, import)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from people.choices import IdType, Relation, ResidenceRole, ResidencyType
from people.models import Tag
from people.services import PersonData

__all__ = ["MoveInForm", "MoveOutForm", "PersonForm", "RevealForm", "SearchForm"]

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class NumberEntry(forms.TextInput):
    """Visible while typing, never written back into a page (not even after an error elsewhere on the form)."""

    def __init__(self, attrs=None) -> None:
        super().__init__({"autocomplete": "off", "spellcheck": "false", **(attrs or {})})

    def format_value(self, value):
        return None


def sensitive(field: forms.Field) -> forms.Field:
    """A personal number: never prefilled, never echoed back, left out of the conflict comparison."""
    field.sensitive = True
    return field


class PersonFields(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=64)
    id_type = forms.ChoiceField(label=_("证件类型"), choices=IdType.choices, initial=IdType.RESIDENT_ID)
    id_number = sensitive(forms.CharField(label=_("证件号码"), required=False, max_length=32,
                                          widget=NumberEntry))
    phone = sensitive(forms.CharField(label=_("联系电话"), required=False, max_length=20,
                                      widget=NumberEntry))
    residency_type = forms.ChoiceField(label=_("人口类型"), choices=ResidencyType.choices,
                                       initial=ResidencyType.REGISTERED)
    nationality = forms.CharField(label=_("国籍"), required=False, max_length=32, initial="中国")
    ethnicity = forms.CharField(label=_("民族"), required=False, max_length=16)
    hukou_address = forms.CharField(label=_("户籍地址"), required=False, max_length=200)
    work_unit = forms.CharField(label=_("工作单位"), required=False, max_length=100)
    tags = forms.ModelMultipleChoiceField(label=_("人群标签"), queryset=Tag.objects.all(), required=False,
                                          to_field_name="code", widget=forms.CheckboxSelectMultiple)
    note = forms.CharField(label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    accept_warnings = forms.BooleanField(label=_("确认号码无误（地区码提示仍保存）"), required=False)

    def person_data(self) -> PersonData:
        d = self.cleaned_data
        return PersonData(
            name=d["name"], id_type=d["id_type"], id_number=d.get("id_number") or "", phone=d.get("phone") or "",
            residency_type=d["residency_type"], nationality=d.get("nationality") or "",
            ethnicity=d.get("ethnicity") or "", hukou_address=d.get("hukou_address") or "",
            work_unit=d.get("work_unit") or "", note=d.get("note") or "",
            tags=[t.code for t in d.get("tags") or []],
        )


class PersonForm(PersonFields):
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ("id_number", "phone"):
            self.fields[name].help_text = _("不修改请留空；出于保护不显示原号码")


class MoveInForm(PersonFields):
    mode = forms.ChoiceField(label=_("入住人员"), choices=[("new", _("新登记人员")), ("existing", _("已登记人员"))],
                             initial="new", widget=forms.RadioSelect)
    existing_id_type = forms.ChoiceField(label=_("证件类型"), choices=IdType.choices, initial=IdType.RESIDENT_ID)
    existing_id_number = sensitive(forms.CharField(label=_("证件号码"), required=False, max_length=32,
                                                   widget=NumberEntry,
                                                   help_text=_("按完整证件号码查找已登记的人员")))
    relation = forms.ChoiceField(label=_("与户主关系"), choices=[("", "—")] + list(Relation.choices), required=False)
    role = forms.ChoiceField(label=_("身份"), choices=ResidenceRole.choices, initial=ResidenceRole.FAMILY)
    moved_in = forms.DateField(label=_("入住日期"), required=False, widget=DATE)

    field_order = ["mode", "existing_id_type", "existing_id_number", "name", "id_type", "id_number", "phone",
                   "residency_type", "relation", "role", "moved_in"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].required = False
        self.fields["moved_in"].initial = timezone.localdate()
        for name in ("existing_id_type", "existing_id_number"):
            self.fields[name].mode = "existing"
        for name in ("name", "id_type", "id_number", "phone", "residency_type", "nationality", "ethnicity",
                     "hukou_address", "work_unit", "tags", "note", "accept_warnings"):
            self.fields[name].mode = "new"

    def clean(self):
        data = super().clean()
        if data.get("mode") == "existing" and not data.get("existing_id_number"):
            self.add_error("existing_id_number", _("请填写已登记人员的证件号码"))
        if data.get("mode") == "new" and not (data.get("name") or "").strip():
            self.add_error("name", _("姓名不能为空"))
        return data


class MoveOutForm(forms.Form):
    moved_out = forms.DateField(label=_("迁出日期"), widget=DATE)
    reason = forms.CharField(label=_("迁出原因"), required=False, max_length=100)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["moved_out"].initial = timezone.localdate()


class RevealForm(forms.Form):
    field = forms.ChoiceField(choices=[("id_number", _("证件号码")), ("phone", _("联系电话"))],
                              widget=forms.HiddenInput)
    purpose = forms.CharField(label=_("查看事由"), max_length=300, required=False,
                              widget=forms.TextInput(attrs={"placeholder": _("如：核实户籍信息")}))


class SearchForm(forms.Form):
    q = forms.CharField(label=_("搜索"), max_length=100, required=False)
