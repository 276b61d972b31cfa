"""Drill-downs of the cockpit's own panels: the filtered list behind a number, with the existing list views'
filter parameters (``/places/houses/?grid_id=3&use=rented``, ``/people/?grid_id=3&tag=elderly``). The lists
apply the user's scope and the export rules themselves (the people list asks the command centre for a reason)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse

__all__ = ["houses", "households", "people", "people_tag", "place_filter"]

# The people list filters grid/community/street on the person's own keys, compound and building on where they live.
PEOPLE_PLACE = {"street": "street_id", "community": "community_id", "grid": "grid_id", "compound": "compound_id",
                "building": "building_id"}


def place_filter(level: str, place_id: int) -> dict[str, int]:
    return {PEOPLE_PLACE[level]: place_id}


def houses(level: str, place_id: int, subkey: str) -> str:
    params = {f"{level}_id": place_id}
    if subkey:
        params["use"] = subkey
    return f"{reverse('places:house_list')}?{urlencode(params)}"


def households(level: str, place_id: int, subkey: str) -> str:
    """Occupied houses of the place (the list has no household-size filter: it shows the occupied ones)."""
    return f"{reverse('places:house_list')}?{urlencode({f'{level}_id': place_id, 'occupied': 'true'})}"


def people(level: str, place_id: int, subkey: str) -> str:
    params = {**place_filter(level, place_id), "is_current": "true"}
    if subkey:
        params["residency_type"] = subkey
    return f"{reverse('people:person_list')}?{urlencode(params)}"


def people_tag(level: str, place_id: int, subkey: str) -> str:
    params = {**place_filter(level, place_id), "is_current": "true"}
    if subkey:
        params["tag"] = subkey
    return f"{reverse('people:person_list')}?{urlencode(params)}"
