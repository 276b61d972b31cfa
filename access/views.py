"""Access pages: login, logout, password change, the second factor, the break-the-glass reason, and the three
separate duties — users (system admin), roles and grants (security admin), the audit (auditor).

Every page checks the permission through the user's scope (``core.scope.scope_for``): roles granted on
places are the only source of rights; Django's ``is_superuser`` is never consulted.
"""

from __future__ import annotations

import datetime as dt
import functools
import io

import django_otp
import segno
from django.apps import apps
from django.contrib import messages
from django.contrib.auth import get_user_model, login, logout
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import select_template
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.auth import LoginRefused, attempt_login, end_all_sessions, remember_session
from access.forms import (
    AuditSearchForm,
    GrantForm,
    LoginForm,
    OtpForm,
    ReasonForm,
    RoleForm,
    UserCreateForm,
    UserEditForm,
)
from access.middleware import LOGIN_AT, SEEN_AT
from core import audit
from core.models import AuditEvent, Grant, Role
from core.scope import scope_for
from core.services import snapshot
from core.views import require

__all__ = ["audit_list", "grant_delete", "grant_edit", "grant_list", "login_view", "logout_view", "otp_qr",
           "otp_setup", "otp_verify", "password_change", "reason", "role_edit", "role_list", "user_create",
           "user_edit", "user_list"]

PAGE_SIZE = 50


def _render(request, template: str, context: dict, status: int = 200):
    """Render inside the site layout (templates/base.html); this app's minimal layout stands in while the site
    layout cannot be rendered (it links to pages of other apps)."""
    base = select_template(["base.html", "access/minimal_base.html"]).template.name
    try:
        return render(request, template, {"access_base": base, **context}, status=status)
    except NoReverseMatch:
        return render(request, template, {"access_base": "access/minimal_base.html", **context}, status=status)


def _next(request, default: str = "home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse(default)


def perm_required(perm: str):
    """Anonymous → the login page; without ``perm`` in their scope → 403."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect(f"{reverse('access:login')}?{urlencode({'next': request.get_full_path()})}")
            if not scope_for(request.user).has(perm):
                raise PermissionDenied(_("您没有此项权限"))
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


# --- login, logout, password -----------------------------------------------------------------------------------
LOGIN_MESSAGES = {
    "invalid": _("用户名或密码不正确"),
    "locked": _("连续登录失败次数过多，账号已锁定30分钟"),
    "ip_limited": _("该地址登录失败次数过多，请稍后再试"),
}


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request):
    form = LoginForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            user = attempt_login(request, form.cleaned_data["username"], form.cleaned_data["password"])
        except LoginRefused as exc:
            error = str(LOGIN_MESSAGES[exc.reason])
        else:
            login(request, user)  # a new session id (session fixation)
            now = timezone.now().timestamp()
            request.session[LOGIN_AT] = now
            request.session[SEEN_AT] = now
            remember_session(request, user)
            audit.record("login", request=request, user=user, object_type="auth.user", object_id=str(user.pk))
            return redirect(_next(request))
    return _render(request, "access/login.html", {"form": form, "error": error,
                                                  "next": request.GET.get("next", "")},
                   status=401 if error else 200)


@require_POST
def logout_view(request):
    if request.user.is_authenticated:
        audit.record("logout", request=request, object_type="auth.user", object_id=str(request.user.pk))
        end_all_sessions(request.user)
    logout(request)
    # The phone forgets what the grid worker's offline round kept (caches, IndexedDB, drafts): the header, and
    # the login page's clearing script for browsers that ignore it (static/js/renfang.js).
    response = redirect(f"{reverse('access:login')}?signed_out=1")
    response["Clear-Site-Data"] = '"cache", "storage"'
    return response


@sensitive_post_parameters()
@csrf_protect
def password_change(request):
    if not request.user.is_authenticated:
        return redirect(f"{reverse('access:login')}?next={request.path}")
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        audit.record("password_change", request=request, object_type="auth.user", object_id=str(user.pk))
        end_all_sessions(user)
        logout(request)
        messages.success(request, _("密码已修改，所有登录会话已结束，请用新密码登录"))
        return redirect("access:login")
    return _render(request, "access/password_change.html", {"form": form})


# --- second factor ---------------------------------------------------------------------------------------------------
def _login_required(request):
    if not request.user.is_authenticated:
        return redirect(f"{reverse('access:login')}?next={request.get_full_path()}")
    return None


@never_cache
def otp_verify(request):
    if (r := _login_required(request)) is not None:
        return r
    if not user_has_device(request.user, confirmed=True):
        return redirect(f"{reverse('access:otp_setup')}?next={_next(request)}")
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = django_otp.match_token(request.user, form.cleaned_data["token"].strip())
        if device is not None:
            django_otp.login(request, device)
            request.session.cycle_key()
            remember_session(request, request.user)
            audit.record("otp_ok", request=request, object_type="auth.user", object_id=str(request.user.pk))
            return redirect(_next(request))
        audit.record("otp_failed", request=request, object_type="auth.user", object_id=str(request.user.pk),
                     result="failed")
        form.add_error("token", _("动态验证码不正确或已过期"))
    return _render(request, "access/otp.html", {"form": form, "next": _next(request)})


def _pending_device(user) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="totp", confirmed=False)
    return device


@never_cache
def otp_setup(request):
    """Enrolment: scan the QR code (or type the key), then confirm with one code."""
    if (r := _login_required(request)) is not None:
        return r
    has_device = user_has_device(request.user, confirmed=True)
    if has_device and not request.user.is_verified():
        return redirect(f"{reverse('access:otp')}?next={_next(request)}")
    device = _pending_device(request.user)
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].strip()):
            with transaction.atomic():
                TOTPDevice.objects.filter(user=request.user).exclude(pk=device.pk).delete()
                device.confirmed = True
                device.save(update_fields=["confirmed"])
            django_otp.login(request, device)
            request.session.cycle_key()  # a new session id for the now fully authenticated session
            remember_session(request, request.user)
            audit.record("otp_enrolled", request=request, object_type="auth.user", object_id=str(request.user.pk))
            messages.success(request, _("动态验证码已启用"))
            return redirect(_next(request))
        form.add_error("token", _("动态验证码不正确，请确认手机时间准确后重试"))
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode()
    return _render(request, "access/otp_setup.html", {"form": form, "secret": secret, "next": _next(request),
                                                      "replacing": has_device})


@never_cache
def otp_qr(request):
    """The enrolment QR code as an SVG image, drawn here (segno), for the user's own unconfirmed device only."""
    if not request.user.is_authenticated:
        raise Http404
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).order_by("-id").first()
    if device is None:
        raise Http404
    buf = io.BytesIO()
    segno.make(device.config_url, error="m").save(buf, kind="svg", scale=4, border=2, xmldecl=False)
    response = HttpResponse(buf.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = "no-store"
    return response


# --- break the glass -------------------------------------------------------------------------------------------------
@csrf_protect
def reason(request):
    """An aggregate-only user states why they open one record ("break the glass"); see core.audit.require_reason."""
    if (r := _login_required(request)) is not None:
        return r
    label = request.GET.get("type") or request.POST.get("type") or ""
    raw_id = request.GET.get("id") or request.POST.get("id") or ""
    try:
        model = apps.get_model(label)
        obj_id = raw_id if raw_id == "list" else int(raw_id)
    except (LookupError, ValueError) as exc:
        raise Http404 from exc
    if not hasattr(model.objects, "restrict"):
        raise Http404
    if obj_id == "list":  # the list of a model's records (core.audit.require_list_reason)
        if not model.objects.restrict(request.user, "view").exists():
            raise Http404
        obj = audit.ListTarget(model)
    else:
        obj = get_object_or_404(model.objects.restrict(request.user, "view"), pk=obj_id)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        audit.give_reason(request, obj, form.cleaned_data["purpose"])
        return redirect(_next(request))
    return _render(request, "access/reason.html", {"form": form, "type": label, "id": obj_id,
                                                   "model_name": model._meta.verbose_name, "next": _next(request)})


# --- users (system admin) ----------------------------------------------------------------------------------------
@perm_required("auth.view_user")
def user_list(request):
    User = get_user_model()
    users = User.objects.order_by("username").prefetch_related("grants__role")
    page = Paginator(users, PAGE_SIZE).get_page(request.GET.get("page"))
    return _render(request, "access/user_list.html", {"page": page, "can_add": scope_for(request.user).has(
        "auth.add_user"), "can_grant": scope_for(request.user).has("core.view_grant")})


@sensitive_post_parameters("password")
@csrf_protect
@perm_required("auth.add_user")
def user_create(request):
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        user = get_user_model().objects.create_user(username=d["username"], password=d["password"],
                                                    first_name=d["first_name"])
        audit.record("create", user, request=request, fields=["username", "first_name", "password"])
        messages.success(request, _("已创建用户 %(u)s；角色由安全管理员授予") % {"u": user.username})
        return redirect("access:user_list")
    return _render(request, "access/user_form.html", {"form": form, "creating": True})


@sensitive_post_parameters("new_password")
@csrf_protect
@perm_required("auth.change_user")
def user_edit(request, pk: int):
    user = get_object_or_404(get_user_model(), pk=pk)
    if user == request.user:
        raise PermissionDenied(_("不能修改自己的账号状态；请使用“修改密码”"))
    form = UserEditForm(request.POST or None, user=user,
                        initial={"first_name": user.first_name, "is_active": user.is_active})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        before = snapshot(user, ["first_name", "is_active"])
        user.first_name, user.is_active = d["first_name"], d["is_active"]
        fields = ["first_name", "is_active"]
        if d["new_password"]:
            user.set_password(d["new_password"])
            fields.append("password")
        user.save(update_fields=fields)
        after = snapshot(user, ["first_name", "is_active"])
        changed = [f for f in ("first_name", "is_active") if before[f] != after[f]]
        if d["new_password"] or not user.is_active:
            end_all_sessions(user)
        audit.record("update", user, request=request, fields=changed + (["password"] if d["new_password"] else []),
                     changes={k: [before[k], after[k]] for k in changed})
        messages.success(request, _("已保存"))
        return redirect("access:user_list")
    return _render(request, "access/user_form.html", {"form": form, "target": user, "creating": False})


# --- roles and grants (security admin) --------------------------------------------------------------------------------
@perm_required("core.view_role")
def role_list(request):
    roles = Role.objects.prefetch_related("permissions__content_type").order_by("code")
    return _render(request, "access/role_list.html", {"roles": roles,
                                                      "can_change": scope_for(request.user).has("core.change_role")})


@csrf_protect
@perm_required("core.view_role")
def role_edit(request, pk: int | None = None):
    require(request.user, "core.change_role" if pk else "core.add_role")
    role = get_object_or_404(Role, pk=pk) if pk else None
    before = sorted(role.permissions.values_list("codename", flat=True)) if role else []
    form = RoleForm(request.POST or None, instance=role)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            role = form.save()
            after = sorted(role.permissions.values_list("codename", flat=True))
            audit.record("update" if pk else "create", role, request=request, fields=sorted(form.changed_data),
                         changes={"added": sorted(set(after) - set(before)),
                                  "removed": sorted(set(before) - set(after))})
        messages.success(request, _("角色已保存；持有该角色的用户下一次请求即按新权限处理"))
        return redirect("access:role_list")
    return _render(request, "access/role_form.html", {"form": form, "role": role})


def _places_for(user) -> dict[str, list[tuple]]:
    """Place names the security admin may grant: those of their own scope (names only, no personal data)."""
    from places.models import Community, Grid, Street

    return {
        "street": list(Street.objects.restrict(user, "view").values_list("id", "name")),
        "community": list(Community.objects.restrict(user, "view").values_list("id", "name", "street_id")),
        "grid": list(Grid.objects.restrict(user, "view").order_by("community__name", "code", "name")
                     .values_list("id", "name", "community_id", "street_id")),
    }


def _place_names(places: dict[str, list[tuple]]) -> dict[tuple[str, int], str]:
    return {(level, row[0]): row[1] for level, rows in places.items() for row in rows}


@perm_required("core.view_grant")
def grant_list(request):
    grants = Grant.objects.select_related("user", "role", "granted_by").order_by("user__username", "role__code")
    username = (request.GET.get("user") or "").strip()
    if username:
        grants = grants.filter(user__username__icontains=username)
    names = _place_names(_places_for(request.user))
    page = Paginator(grants, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = []
    for g in page:
        pk = {"street": g.street_id, "community": g.community_id, "grid": g.grid_id}.get(g.level)
        rows.append({"grant": g, "place": names.get((g.level, pk), "—" if g.level == "self" else f"#{pk}"),
                     "expired": bool(g.expires_at and g.expires_at < now)})
    return _render(request, "access/grant_list.html", {"page": page, "rows": rows, "user_filter": username,
                                                       "can_add": scope_for(request.user).has("core.add_grant")})


GRANT_FIELDS = ["user", "role", "level", "street_id", "community_id", "grid_id", "starts_at", "expires_at", "reason"]


@csrf_protect
@perm_required("core.view_grant")
def grant_edit(request, pk: int | None = None):
    require(request.user, "core.change_grant" if pk else "core.add_grant")
    grant = get_object_or_404(Grant, pk=pk) if pk else None
    if grant is not None and grant.user_id == request.user.pk:
        raise PermissionDenied(_("不能修改自己的授权（三权分立）"))
    before = snapshot(grant, GRANT_FIELDS) if grant else {}
    initial = {"user": request.GET.get("user")} if not pk and request.GET.get("user") else None
    form = GrantForm(request.POST or None, instance=grant, places=_places_for(request.user), granter=request.user,
                     initial=initial)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            grant = form.save(commit=False)
            if not pk:
                grant.granted_by = request.user
            grant.save()
            after = snapshot(grant, GRANT_FIELDS)
            changed = sorted(k for k in after if before.get(k) != after[k])
            audit.record("grant_update" if pk else "grant_create", grant, request=request, fields=changed,
                         changes={k: [before.get(k), after[k]] for k in changed}, purpose=grant.reason)
        messages.success(request, _("授权已保存，下一次请求即生效"))
        return redirect("access:grant_list")
    return _render(request, "access/grant_form.html", {"form": form, "grant": grant})


@require_POST
@csrf_protect
@perm_required("core.view_grant")
def grant_delete(request, pk: int):
    require(request.user, "core.delete_grant")
    grant = get_object_or_404(Grant, pk=pk)
    if grant.user_id == request.user.pk:
        raise PermissionDenied(_("不能修改自己的授权（三权分立）"))
    before = snapshot(grant, GRANT_FIELDS)
    with transaction.atomic():
        audit.record("grant_delete", grant, request=request, fields=GRANT_FIELDS, changes={"before": before})
        grant.delete()
    messages.success(request, _("授权已撤销，下一次请求即生效"))
    return redirect("access:grant_list")


# --- the audit (auditor) ---------------------------------------------------------------------------------------
AUDIT_ACTIONS = ["login", "login_failed", "logout", "password_change", "otp_ok", "otp_failed", "otp_enrolled",
                 "denied", "view", "break_glass", "reveal", "search", "create", "update", "move_in", "move_out",
                 "import", "export", "grant_create", "grant_update", "grant_delete", "audit_search", "purge",
                 "rotate_keys"]


@perm_required("core.view_auditevent")
def audit_list(request):
    form = AuditSearchForm(request.GET or None)
    events = AuditEvent.objects.order_by("-id")
    if form.is_valid():
        d = form.cleaned_data
        if d["username"]:
            events = events.filter(username__icontains=d["username"].strip())
        if d["action"]:
            events = events.filter(action=d["action"].strip())
        if d["object_type"]:
            events = events.filter(object_type=d["object_type"].strip())
        if d["object_id"]:
            events = events.filter(object_id=d["object_id"].strip())
        if d["request_id"]:
            events = events.filter(request_id=d["request_id"].strip())
        tz = timezone.get_current_timezone()
        if d["date_from"]:
            events = events.filter(at__gte=dt.datetime.combine(d["date_from"], dt.time.min, tzinfo=tz))
        if d["date_to"]:
            events = events.filter(at__lt=dt.datetime.combine(d["date_to"] + dt.timedelta(days=1), dt.time.min,
                                                              tzinfo=tz))
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    audit.record("audit_search", request=request, object_type="core.auditevent",
                 fields=sorted(k for k, v in request.GET.items() if v and k != "page"))
    return _render(request, "access/audit_list.html", {"form": form, "page": page, "query": query.urlencode(),
                                                       "actions": AUDIT_ACTIONS})


# --- API tokens ------------------------------------------------------------------------------------------------------
@never_cache
def token_list(request):
    """The user's own API tokens: issue one (purpose, days, a second-factor code now), list, revoke."""
    from access.models import ApiToken
    from access.tokens import MAX_DAYS, issue

    if (r := _login_required(request)) is not None:
        return r
    errors: dict = {}
    new_key = ""
    form = {"name": "", "days": "90"}
    if request.method == "POST":
        form = {"name": request.POST.get("name", ""), "days": request.POST.get("days", "")}
        days = int(form["days"]) if form["days"].strip().isdigit() else -1
        try:
            token, new_key = issue(request.user, name=form["name"], days=days,
                                   otp_code=request.POST.get("otp_code", ""))
        except ValidationError as exc:
            errors = exc.message_dict
        except PermissionDenied as exc:
            errors = {"otp_code": [str(exc)]}
        else:
            messages.success(request, _("已签发API令牌“%(n)s”，有效期至%(d)s；令牌只显示这一次，请立即保存")
                             % {"n": token.name, "d": timezone.localtime(token.expires_at).strftime("%Y-%m-%d")})
            form = {"name": "", "days": "90"}
    tokens = list(ApiToken.objects.filter(user=request.user).order_by("-created_at")[:50])
    now = timezone.now()
    return _render(request, "access/tokens.html", {
        "tokens": [(t, t.is_live(now)) for t in tokens], "form": form, "errors": errors, "new_key": new_key,
        "max_days": MAX_DAYS, "has_device": user_has_device(request.user, confirmed=True)},
        status=400 if errors else 200)


@require_POST
def token_revoke(request, pk: int):
    from access.models import ApiToken
    from access.tokens import revoke

    if (r := _login_required(request)) is not None:
        return r
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)  # another user's token: not found
    revoke(request.user, token)
    messages.success(request, _("API令牌“%(n)s”已吊销，使用它的请求将被拒绝") % {"n": token.name})
    return redirect("access:tokens")
