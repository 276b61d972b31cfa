"""The scope-aware queryset every model with place or personal data uses as its default manager."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from core.scope import PlaceSet, scope_for

__all__ = ["RestrictedManager", "RestrictedQuerySet", "natural", "scope_q"]


def natural(field: str) -> list:
    """``order_by(*natural("number"))``: numbered names in their natural order, 1, 2 … 10 (not 1, 10, 11 … 2),
    for numbers stored as text. Shorter first, then by text: exact for plain numbers, close for "A1"/"A12"."""
    from django.db.models.functions import Length

    return [Length(field), field]


def scope_q(model: type[models.Model], places: PlaceSet, user_id: int | None = None) -> Q:
    """The filter that keeps the rows of ``model`` inside ``places``.

    ``model.scope_fields`` maps a level ("street", "community", "grid", "self") to the lookup of that
    ancestor's id on the model (``grid_id``, ``house__grid_id``...). Models at or above a level reach
    their ancestors' ids through ``up_*`` when ``model.scope_ancestors_visible`` is set (a grid worker
    may see their community's name, not its other grids).
    """
    fields: dict[str, str] = getattr(model, "scope_fields", {})
    q = Q(pk__in=[])
    up = getattr(model, "scope_ancestors_visible", False)
    # An ancestor is visible itself, not its other children: ``up_*`` apply to the model's own level only
    # (a grid worker of B1 sees community B and the street, not community A).
    streets = places.streets | (places.up_streets if up and fields.get("street") == "id" else set())
    communities = places.communities | (places.up_communities if up and fields.get("community") == "id" else set())
    if streets and "street" in fields:
        q |= Q(**{f"{fields['street']}__in": sorted(streets)})
    if communities and "community" in fields:
        q |= Q(**{f"{fields['community']}__in": sorted(communities)})
    if places.grids and "grid" in fields:
        q |= Q(**{f"{fields['grid']}__in": sorted(places.grids)})
    if places.self_only and "self" in fields and user_id is not None:
        q |= Q(**{fields["self"]: user_id})
    return q


class RestrictedQuerySet(models.QuerySet):
    def restrict(self, user, action: str = "view") -> RestrictedQuerySet:
        """Rows of this queryset that ``user`` may ``action`` (view, add, change, delete, reveal, export...).

        Deny by default: anonymous users, users without the permission and models without
        ``scope_fields`` get nothing. There is no superuser bypass.
        """
        if user is None or not getattr(user, "is_authenticated", False):
            return self.none()
        perm = f"{self.model._meta.app_label}.{action}_{self.model._meta.model_name}"
        places = scope_for(user).places_for(perm)
        if places is None:
            return self.none()
        return self.filter(scope_q(self.model, places, user.pk))


class RestrictedManager(models.Manager.from_queryset(RestrictedQuerySet)):
    pass
