"""The system administrator's page of Open311 API keys: list, create (the key is shown once), deactivate."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from core import audit
from core.scope import scope_for
from core.views import require
from open311.models import APIKey

__all__ = ["KeyDeactivateView", "KeyListView", "create_key"]


NO_KEY_PERMISSION = gettext_lazy("您没有管理 Open311 密钥的权限")


def create_key(user, *, name: str, contact: str = "") -> tuple[APIKey, str]:
    """A new key for an application; returns the row and the clear key (shown once, never stored)."""
    raw = APIKey.generate()
    with transaction.atomic():
        key = APIKey.objects.create(name=name.strip()[:100], contact=contact.strip()[:100], prefix=raw[:8],
                                    key_hash=APIKey.digest(raw), created_by=user)
        audit.record("create", key, user=user, fields=["name"])
    return key, raw


class KeyListView(LoginRequiredMixin, View):
    def get(self, request, new_key: str = "", errors: dict | None = None):
        require(request.user, "open311.view_apikey", NO_KEY_PERMISSION)
        return render(request, "open311/key_list.html", {
            "title": _("Open311 接口密钥"), "keys": APIKey.objects.select_related("created_by"),
            "can_add": scope_for(request.user).has("open311.add_apikey"),
            "can_change": scope_for(request.user).has("open311.change_apikey"),
            "new_key": new_key, "errors": errors or {}})

    def post(self, request):
        require(request.user, "open311.add_apikey", NO_KEY_PERMISSION)
        name = (request.POST.get("name") or "").strip()
        if not name:
            return self.get(request, errors={"name": _("应用名称：请填写使用该密钥的应用或单位名称")})
        _key, raw = create_key(request.user, name=name, contact=request.POST.get("contact") or "")
        messages.success(request, _("已创建密钥，请立即复制：离开本页后无法再次查看"))
        response = self.get(request, new_key=raw)
        response["Cache-Control"] = "no-store"
        return response


class KeyDeactivateView(LoginRequiredMixin, View):
    def post(self, request, pk: int):
        require(request.user, "open311.change_apikey", NO_KEY_PERMISSION)
        key = get_object_or_404(APIKey, pk=pk)
        with transaction.atomic():
            APIKey.objects.filter(pk=key.pk).update(is_active=False)
            audit.record("deactivate", key, user=request.user, changes={"is_active": [True, False]})
        messages.success(request, _("已停用密钥 %(k)s") % {"k": key})
        return redirect("open311:key_list")
