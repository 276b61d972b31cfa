"""The one write path for places: forms, the API, imports and background jobs all call these.

Each function validates (field rules, ``clean()``, per-parent unique constraints with their Chinese
messages), checks that the chosen parent is visible to the user, saves with the optimistic-lock check
(``core.services.bump_version``), keeps the denormalised ancestor keys of every descendant current when a
place moves to another parent, checks that the result is still in the user's scope and writes the audit
— all in one transaction. ``user=None`` means the system itself (demo generation, migrations).

``data`` is a mapping of field name to value; foreign keys are given as model instances (``{"grid": grid}``)
or ids (``{"grid_id": 3}``). On update only the given fields change.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import ProtectedError
from django.dispatch import Signal
from django.utils.translation import gettext as _

from core import audit
from core.scope import scope_for
from core.services import assert_in_scope, bump_version, diff, snapshot
from places.models import Building, Community, Compound, Grid, House, Street
from places.pinyin import place_pinyin

__all__ = ["PLACE_MODELS", "ancestors_changed", "delete_place", "save_building", "save_community", "save_compound",
           "save_grid", "save_house", "save_place", "save_street"]

PLACE_MODELS: list[type[models.Model]] = [Street, Community, Grid, Compound, Building, House]
LEVELS = ["street", "community", "grid", "compound", "building"]
# Fields nobody writes directly: kept by fill_ancestors, by move-in/move-out, or by the version check.
SYSTEM_FIELDS = {"id", "version", "created_at", "updated_at", "resident_count"}

# Sent (inside the transaction) after a place moved under another parent and its descendants' ancestor keys
# were rewritten. Apps above places (people: persons, enterprises) connect to keep their own copies current.
# Arguments: sender=the place model, instance=the place, level="compound"/..., ancestors={"grid_id": ..., ...}.
ancestors_changed = Signal()


def _editable_fields(model: type[models.Model]) -> list[str]:
    ancestors = {f"{lvl}" for lvl in LEVELS if lvl != getattr(model, "parent_field", "")}
    return [f.name for f in model._meta.concrete_fields
            if f.name not in SYSTEM_FIELDS and f.name not in ancestors]


def _set_fields(obj: models.Model, data: dict[str, Any]) -> None:
    allowed = set(_editable_fields(type(obj)))
    for name, value in data.items():
        field_name = name[:-3] if name.endswith("_id") else name
        if field_name not in allowed:
            raise ValidationError({field_name: [_("该字段不能修改")]})
        setattr(obj, name, value)


def _check_parent_visible(user, obj: models.Model) -> None:
    parent_field = getattr(obj, "parent_field", "")
    if user is None or not parent_field:
        return
    parent_id = getattr(obj, f"{parent_field}_id")
    if parent_id is None:
        raise ValidationError({parent_field: [_("请选择上级")]})
    parent_model = obj._meta.get_field(parent_field).related_model
    if not parent_model.objects.restrict(user, "view").filter(pk=parent_id).exists():
        raise ValidationError({parent_field: [_("所选的上级不存在或不在您的管辖范围内")]})


def _cascade_ancestors(obj: models.Model) -> None:
    """The place moved under another parent: rewrite the ancestor keys of everything below it."""
    level = obj._meta.model_name
    if level not in LEVELS:
        return
    above = LEVELS[:LEVELS.index(level)]
    values = {f"{lvl}_id": getattr(obj, f"{lvl}_id") for lvl in above if hasattr(obj, f"{lvl}_id")}
    if level == "street" or not values:
        return
    for child in PLACE_MODELS[PLACE_MODELS.index(type(obj)) + 1:]:
        names = {f.attname for f in child._meta.concrete_fields}
        if f"{level}_id" not in names:
            continue
        child._base_manager.filter(**{f"{level}_id": obj.pk}).update(
            **{k: v for k, v in values.items() if k in names})
    ancestors_changed.send(sender=type(obj), instance=obj, level=level, ancestors=values)


def _ancestor_key(obj: models.Model) -> tuple:
    return tuple(getattr(obj, f"{lvl}_id", None) for lvl in LEVELS)


@transaction.atomic
def save_place(user, model: type[models.Model], data: dict[str, Any], obj: models.Model | None = None, *,
               expected_version: int | None = None, source: str = "form") -> models.Model:
    """Create ``model`` from ``data`` or update ``obj`` with it. Raises ValidationError({field: [message]}),
    PermissionDenied (not allowed here) or core.services.ConflictError (someone saved it meanwhile)."""
    creating = obj is None
    perm_action = "add" if creating else "change"
    fields = _editable_fields(model)
    if user is not None:
        perm = f"{model._meta.app_label}.{perm_action}_{model._meta.model_name}"
        if creating and not scope_for(user).has(perm):
            raise PermissionDenied(_("您没有新增%(m)s的权限") % {"m": model._meta.verbose_name})
        if not creating and not model.objects.restrict(user, "change").filter(pk=obj.pk).exists():
            raise PermissionDenied(_("您没有修改此%(m)s的权限") % {"m": model._meta.verbose_name})
    if creating:
        obj = model()
        before: dict = {}
        old_key: tuple = ()
    else:
        obj = model._base_manager.select_for_update().get(pk=obj.pk)
        bump_version(obj, expected_version)
        before = snapshot(obj, fields)
        old_key = _ancestor_key(obj)
    _set_fields(obj, data)
    _check_parent_visible(user, obj)
    obj.fill_ancestors()
    obj.full_clean(exclude=["version"])
    obj.save()
    if not creating and _ancestor_key(obj) != old_key:
        _cascade_ancestors(obj)
    assert_in_scope(user, obj, perm_action)
    after = snapshot(obj, fields)
    changes = diff(before, after)
    audit.record("create" if creating else "update", obj, user=user, fields=sorted(changes), changes=changes,
                 purpose=source)
    return obj


def save_street(user, data: dict[str, Any], street: Street | None = None, **kw) -> Street:
    return save_place(user, Street, data, street, **kw)


def save_community(user, data: dict[str, Any], community: Community | None = None, **kw) -> Community:
    return save_place(user, Community, data, community, **kw)


def save_grid(user, data: dict[str, Any], grid: Grid | None = None, **kw) -> Grid:
    return save_place(user, Grid, data, grid, **kw)


def save_compound(user, data: dict[str, Any], compound: Compound | None = None, **kw) -> Compound:
    if "name" in data:
        data = {**data, "name_pinyin": place_pinyin(str(data["name"] or ""))}
    return save_place(user, Compound, data, compound, **kw)


def save_building(user, data: dict[str, Any], building: Building | None = None, **kw) -> Building:
    return save_place(user, Building, data, building, **kw)


def save_house(user, data: dict[str, Any], house: House | None = None, **kw) -> House:
    return save_place(user, House, data, house, **kw)


@transaction.atomic
def delete_place(user, obj: models.Model, *, source: str = "form") -> None:
    """Delete a place that nothing refers to any more (no children, no residence history)."""
    model = type(obj)
    if user is not None and not model.objects.restrict(user, "delete").filter(pk=obj.pk).exists():
        raise PermissionDenied(_("您没有删除此%(m)s的权限") % {"m": model._meta.verbose_name})
    label, pk, place = model._meta.label_lower, obj.pk, getattr(obj, "audit_place", "")
    try:
        with transaction.atomic():
            obj.delete()
    except ProtectedError as exc:
        raise ProtectedError(_("%(m)s下还有其他记录（下级地点或居住历史），不能删除")
                             % {"m": model._meta.verbose_name}, exc.protected_objects) from exc
    audit.record("delete", user=user, object_type=label, object_id=str(pk), place=place, purpose=source)
