"""Helpers every app's service functions use: scope checks after writes, optimistic locking, diffs."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext as _

__all__ = ["ConflictError", "assert_in_scope", "bump_version", "diff", "require_on", "snapshot"]


class ConflictError(Exception):
    """Someone else saved the object since it was read (optimistic locking)."""

    def __init__(self, obj: models.Model, expected: int, current: int) -> None:
        super().__init__(_("该记录已被他人修改（您编辑的是第 %(e)d 版，现在是第 %(c)d 版），请查看对方的修改后再保存")
                         % {"e": expected, "c": current})
        self.obj = obj
        self.expected = expected
        self.current = current


def assert_in_scope(user, obj: models.Model, action: str) -> None:
    """Inside the write's transaction: the object must still be in the user's scope, or the write rolls back."""
    if user is None:  # system jobs (demo, migrations) act without a user
        return
    model = type(obj)
    if not model.objects.restrict(user, action).filter(pk=obj.pk).exists():
        raise PermissionDenied(_("保存后的记录不在您的管辖范围内，操作已撤销"))


def require_on(user, obj: models.Model, action: str, message: str | None = None) -> None:
    """Before a write on ``obj``: out of the user's scope → "not in your area"; in it but without ``action`` →
    ``message`` (or the plain refusal). ``None`` is the system (demo, background jobs). The one object-level check
    of the apps' services, as ``core.views.require`` is the one permission check of their views."""
    if user is None:
        return
    restricted = type(obj).objects.restrict
    if not restricted(user, action).filter(pk=obj.pk).exists():
        if not restricted(user, "view").filter(pk=obj.pk).exists():
            raise PermissionDenied(_("该记录不在您的管辖范围内"))
        raise PermissionDenied(message or _("您可以查看此记录，但没有进行此操作的权限"))


def bump_version(obj: models.Model, expected_version: int | None) -> None:
    """Conditional update of the version: ``UPDATE ... SET version = v+1 WHERE id = ? AND version = v``."""
    if obj.pk is None:
        return
    model = type(obj)
    current = model._base_manager.filter(pk=obj.pk).values_list("version", flat=True).first()
    expected = expected_version if expected_version is not None else obj.version
    if current is None:
        return
    updated = model._base_manager.filter(pk=obj.pk, version=expected).update(version=expected + 1)
    if not updated:
        raise ConflictError(obj, expected, current)
    obj.version = expected + 1


def snapshot(obj: models.Model, fields: list[str]) -> dict:
    out = {}
    for name in fields:
        value = getattr(obj, name, None)
        if isinstance(value, models.Model):
            value = value.pk
        out[name] = value if isinstance(value, (int, float, str, bool, type(None))) else str(value)
    return out


def diff(before: dict, after: dict, masked: set[str] | frozenset[str] = frozenset()) -> dict:
    """{field: [before, after]} of changed fields; personal fields show only that they changed."""
    out = {}
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            out[key] = ["***", "***"] if key in masked else [before.get(key), after.get(key)]
    return out
