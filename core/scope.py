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

__all__ = ["PlaceSet", "Scope", "resolve_scope", "scope_for"]


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
        ps = scope.perms.setdefault(f"{app_label}.{codename}", PlaceSet())
        ps.aggregate_only = ps.aggregate_only or aggregate_only
        if level == "street":
            ps.streets.add(street_id)
        elif level == "community":
            ps.communities.add(community_id)
            ps.up_streets.add(street_id)
        elif level == "grid":
            ps.grids.add(grid_id)
            ps.up_communities.add(community_id)
            ps.up_streets.add(street_id)
        elif level == "self":
            ps.self_only = True
    scope.roles = sorted(set(scope.roles))
    return scope


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
