"""Who may do what where: a user's grants resolved into the places they reach, once per request.

A role (``core.Role``) is a set of Django permissions (``people.view_person``, ``people.reveal_person``,
``people.export_person``, ``fieldwork.approve_change``...). A grant (``core.Grant``) gives a role to a user
on a place: the whole street, one community or one grid, optionally until a date.  ``resolve_scope``
turns the user's live grants into, for every permission, the sets of street, community and grid ids it
reaches.  ``RestrictedQuerySet.restrict`` (core/querysets.py) turns those sets into one filter over the
model's denormalised ancestor keys.

This module knows places only as integers: core imports no domain app.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone

__all__ = ["OTP_REQUIRED_ROLES", "PlaceSet", "Scope", "needs_reason", "resolve_scope", "scope_for"]

# Roles whose holders must pass the second factor on every session (security.md, Authentication).
OTP_REQUIRED_ROLES = frozenset({"command_centre", "system_admin", "security_admin"})


@dataclass
class PlaceSet:
    streets: set[int] = field(default_factory=set)
    communities: set[int] = field(default_factory=set)
    grids: set[int] = field(default_factory=set)
    # Ancestors of the granted places: a grid worker may see the name of their community and street.
    up_streets: set[int] = field(default_factory=set)
    up_communities: set[int] = field(default_factory=set)
    self_only: bool = False  # a resident's grant: only records they submitted
    aggregate_only: bool = False

    def empty(self) -> bool:
        return not (self.streets or self.communities or self.grids or self.self_only)


@dataclass
class Scope:
    user_id: int | None
    perms: dict[str, PlaceSet] = field(default_factory=dict)
    # The same permissions reached through grants of roles that are not aggregate-only: personal detail
    # inside these places needs no stated reason.
    detail_perms: dict[str, PlaceSet] = field(default_factory=dict)
    roles: list[str] = field(default_factory=list)

    def places_for(self, perm: str) -> PlaceSet | None:
        ps = self.perms.get(perm)
        if ps is None or ps.empty():
            return None
        return ps

    def has(self, perm: str) -> bool:
        return self.places_for(perm) is not None

    @property
    def role_label(self) -> str:
        return ",".join(sorted(set(self.roles)))


def resolve_scope(user) -> Scope:
    """Read the user's unexpired grants (one query) and index them by permission."""
    from core.models import Grant  # local import: models import this module

    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope(None)
    now = timezone.now()
    scope = Scope(user.pk)
    grants = (Grant.objects.filter(user_id=user.pk, role__is_active=True)
              .exclude(expires_at__lt=now).exclude(starts_at__gt=now)
              .values_list("role__code", "level", "street_id", "community_id", "grid_id",
                           "role__aggregate_only", "role__permissions__content_type__app_label",
                           "role__permissions__codename"))
    for role_code, level, street_id, community_id, grid_id, aggregate_only, app_label, codename in grants:
        scope.roles.append(role_code)
        if not codename:
            continue
        perm = f"{app_label}.{codename}"
        targets = [scope.perms.setdefault(perm, PlaceSet())]
        if aggregate_only:
            targets[0].aggregate_only = True
        else:
            targets.append(scope.detail_perms.setdefault(perm, PlaceSet()))
        for ps in targets:
            _add_place(ps, level, street_id, community_id, grid_id)
    scope.roles = sorted(set(scope.roles))
    return scope


def _add_place(ps: PlaceSet, level: str, street_id, community_id, grid_id) -> None:
    # A grant whose place id is missing reaches nothing (deny by default), never "everything".
    if level == "street" and street_id is not None:
        ps.streets.add(street_id)
    elif level == "community" and community_id is not None:
        ps.communities.add(community_id)
        if street_id is not None:
            ps.up_streets.add(street_id)
    elif level == "grid" and grid_id is not None:
        ps.grids.add(grid_id)
        if community_id is not None:
            ps.up_communities.add(community_id)
        if street_id is not None:
            ps.up_streets.add(street_id)
    elif level == "self":
        ps.self_only = True


def scope_for(user) -> Scope:
    """The user's scope, computed once per request (cached on the user object, which is per request)."""
    cached = getattr(user, "_renfang_scope", None)
    if cached is None:
        cached = resolve_scope(user)
        try:
            user._renfang_scope = cached
        except AttributeError:
            pass
    return cached


def needs_reason(user, target) -> bool:
    """Whether ``user`` must state a reason before seeing the personal detail of ``target``.

    ``target`` is a model class or an instance. True when the user's ``view`` permission on the model comes
    from an aggregate-only role (the command centre) and, for an instance, no other grant of theirs reaches
    it. Views call it through ``core.audit.require_reason(request, obj)``, which asks once per session per
    object and records the reason in the audit ("break the glass").
    """
    from core.querysets import scope_q  # local import: querysets imports this module

    model = target if isinstance(target, type) else type(target)
    perm = f"{model._meta.app_label}.view_{model._meta.model_name}"
    scope = scope_for(user)
    places = scope.perms.get(perm)
    if places is None or not places.aggregate_only:
        return False
    detail = scope.detail_perms.get(perm)
    if detail is None or detail.empty():
        return True
    if isinstance(target, type):
        return True
    reachable = model._base_manager.filter(pk=target.pk).filter(scope_q(model, detail, scope.user_id))
    return not reachable.exists()
