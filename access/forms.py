"""Forms of the access pages: login, second factor, users, roles, grants, the break-the-glass reason, audit search."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.models import Grant, Role

__all__ = ["AuditSearchForm", "GrantForm", "LoginForm", "OtpForm", "ReasonForm", "RoleForm", "UserCreateForm",
           "UserEditForm"]

# Permissions a role may carry: every app's except Django's and the libraries' internals.
INTERNAL_APPS = ("contenttypes", "sessions", "authtoken", "otp_totp", "django_tasks_db", "access")


def role_permissions():
    return (Permission.objects.exclude(content_type__app_label__in=INTERNAL_APPS)
            .exclude(content_type__app_label="auth", content_type__model__in=["group", "permission"])
            .select_related("content_type").order_by("content_type__app_label", "content_type__model", "codename"))


class LoginForm(forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150,
                               widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}))
    password = forms.CharField(label=_("密码"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class OtpForm(forms.Form):
    token = forms.RegexField(label=_("动态验证码"), regex=r"^\s*\d{6}\s*$",
                             error_messages={"invalid": _("动态验证码是6位数字")},
                             widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                                           "autofocus": True}))


class ReasonForm(forms.Form):
    purpose = forms.CharField(label=_("查看事由"), min_length=4, max_length=300,
                              error_messages={"min_length": _("请填写查看个人明细的事由（至少4个字）")},
                              widget=forms.TextInput(attrs={"autofocus": True}))


class UserCreateForm(forms.Form):
    username = forms.RegexField(label=_("用户名"), max_length=150, regex=r"^[\w.@+-]+$",
                                error_messages={"invalid": _("用户名只能包含字母、数字和 @ . + - _")})
    first_name = forms.CharField(label=_("姓名"), max_length=150, required=False)
    password = forms.CharField(label=_("初始密码"), strip=False, widget=forms.PasswordInput,
                               help_text=password_validation.password_validators_help_text_html)

    def clean_username(self) -> str:
        name = self.cleaned_data["username"]
        if get_user_model().objects.filter(username=name).exists():
            raise ValidationError(_("用户名“%(n)s”已存在") % {"n": name})
        return name

    def clean(self):
        data = super().clean()
        if data.get("password"):
            user = get_user_model()(username=data.get("username", ""), first_name=data.get("first_name", ""))
            try:
                password_validation.validate_password(data["password"], user)
            except ValidationError as exc:
                self.add_error("password", exc)
        return data


class UserEditForm(forms.Form):
    first_name = forms.CharField(label=_("姓名"), max_length=150, required=False)
    is_active = forms.BooleanField(label=_("启用"), required=False)
    new_password = forms.CharField(label=_("重设密码"), strip=False, required=False, widget=forms.PasswordInput,
                                   help_text=_("留空则不修改；修改后该用户的所有会话立即失效"))

    def __init__(self, *args, user=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_new_password(self) -> str:
        pw = self.cleaned_data.get("new_password") or ""
        if pw:
            password_validation.validate_password(pw, self.user)
        return pw


class RoleForm(forms.ModelForm):
    permissions = forms.ModelMultipleChoiceField(
        label=_("权限"), required=False, widget=forms.CheckboxSelectMultiple, queryset=Permission.objects.none())

    class Meta:
        model = Role
        fields = ["code", "name", "description", "aggregate_only", "is_active", "permissions"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["permissions"].queryset = role_permissions()


class GrantForm(forms.ModelForm):
    """A role on a place. The place lists come from the security admin's own scope (they see place names only)."""

    place = forms.ChoiceField(label=_("地点"), required=False)

    class Meta:
        model = Grant
        fields = ["user", "role", "level", "starts_at", "expires_at", "reason"]
        widgets = {"starts_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
                   "expires_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")}

    def __init__(self, *args, places: dict[str, list[tuple]] | None = None, granter=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.granter = granter
        self.places = places or {}
        choices = [("", "—")]
        for level, label in (("street", _("街道")), ("community", _("社区")), ("grid", _("网格"))):
            rows = self.places.get(level, [])
            if rows:
                choices.append((str(label), [(f"{level}:{pk}", name) for pk, name, *_rest in rows]))
        self.fields["place"].choices = choices
        self.fields["user"].queryset = get_user_model().objects.filter(is_active=True).order_by("username")
        self.fields["role"].queryset = Role.objects.filter(is_active=True)
        self.fields["starts_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"]
        self.fields["expires_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"]
        inst = self.instance
        if inst.pk and inst.level != "self":
            pk = {"street": inst.street_id, "community": inst.community_id, "grid": inst.grid_id}.get(inst.level)
            self.initial.setdefault("place", f"{inst.level}:{pk}")

    def clean(self):
        data = super().clean()
        level, place = data.get("level"), data.get("place") or ""
        if level and level != "self":
            if not place.startswith(f"{level}:"):
                self.add_error("place", _("请选择与层级一致的地点（层级是“%(l)s”）") % {"l": dict(Role.LEVELS)[level]})
            else:
                pk = int(place.split(":", 1)[1])
                row = next((r for r in self.places.get(level, []) if r[0] == pk), None)
                if row is None:
                    self.add_error("place", _("该地点不在您的管理范围内"))
                else:
                    data["place_row"] = row
        starts, expires = data.get("starts_at"), data.get("expires_at")
        if starts and expires and expires <= starts:
            self.add_error("expires_at", _("到期时间必须晚于生效时间"))
        if self.granter is not None and data.get("user") == self.granter:
            self.add_error("user", _("不能给自己授权（三权分立）"))
        return data

    def save(self, commit: bool = True) -> Grant:
        grant = super().save(commit=False)
        grant.street_id = grant.community_id = grant.grid_id = None
        row = self.cleaned_data.get("place_row")
        if grant.level == "street" and row:
            grant.street_id = row[0]
        elif grant.level == "community" and row:
            grant.community_id, grant.street_id = row[0], row[2]
        elif grant.level == "grid" and row:
            grant.grid_id, grant.community_id, grant.street_id = row[0], row[2], row[3]
        if commit:
            grant.save()
        return grant


class AuditSearchForm(forms.Form):
    username = forms.CharField(label=_("用户"), required=False)
    action = forms.CharField(label=_("动作"), required=False, widget=forms.TextInput(attrs={"list": "audit-actions"}))
    object_type = forms.CharField(label=_("对象类型"), required=False)
    object_id = forms.CharField(label=_("对象ID"), required=False)
    request_id = forms.CharField(label=_("请求ID"), required=False)
    date_from = forms.DateField(label=_("开始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("结束日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", _("结束日期不能早于开始日期"))
        return data
