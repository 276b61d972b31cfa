"""The cockpit's pages: one board per place (street, community, grid, compound, building), its JSON (the wall
screen re-fetches it), its map GeoJSON, and the wall screen. Every view resolves the place through
``board.resolve_place`` — out of the user's scope → 404; no board permission at all → 403."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views import View

from cockpit import board, geo, houses, registry
from core import dbrouter
from core.scope import scope_for

__all__ = ["BoardDataView", "BoardView", "HomeView", "MapDataView", "WallView"]

WALL_REFRESH_S = 30
WALL_ROTATE_S = 15  # more panels than the wall's twelve places: the sixth of each side shows the rest in turn


class CockpitView(LoginRequiredMixin, View):
    raise_exception = False

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not scope_for(request.user).has(board.BOARD_PERM):
            raise PermissionDenied(_("您没有查看驾驶舱的权限"))
        return super().dispatch(request, *args, **kwargs)


def _layers(place: board.Place) -> list[dict]:
    out = []
    for layer in registry.layers():
        try:
            url = reverse(layer.url_name)
        except NoReverseMatch:
            continue
        out.append({"key": layer.key, "title": str(layer.title), "url": url, "color": layer.color,
                    "shown": layer.shown})
    return out


def _context(request: HttpRequest, place: board.Place, *, wall: bool) -> dict:
    payload = board.board_payload(place)
    ctx = {
        "place": place, "payload": payload, "wall": wall, "title": f"{place.name} · {_('驾驶舱')}",
        "crumbs": _crumbs(place), "layers": _layers(place), "refresh_s": WALL_REFRESH_S, "rotate_s": WALL_ROTATE_S,
        "tile_url": getattr(settings, "RENFANG_TILE_URL", "") or "", "tile_crs": geo.tile_crs(),
        "data_url": reverse("cockpit:board_data", args=[place.level, place.pk]),
        "map_url": reverse("cockpit:map_data", args=[place.level, place.pk]),
        "wall_url": reverse("cockpit:board", args=[place.level, place.pk]) + "?wall=1",
        "board_url": reverse("cockpit:board", args=[place.level, place.pk]),
        # Staff and system administrators see the read replica's lag (the board reads from it when configured).
        "replica": dbrouter.status().as_dict() if dbrouter.shows_lag(request.user) else None,
    }
    if place.level == "building":
        ctx["grid"] = houses.building_grid(place.obj, request.GET.get("colour"))
        ctx["building_view_url"] = reverse("places:building", args=[place.pk])
    return ctx


def _crumbs(place: board.Place) -> list[tuple[str, str]]:
    """Ancestors (linked to their boards when the user's grant covers them), then the place itself."""
    out = []
    if place.level != board.DISTRICT and place.places is not None and len(place.places.streets) >= 2:
        out.append((str(board.District(sorted(place.places.streets))), reverse("cockpit:board",
                                                                              args=[board.DISTRICT, 0])))
    for level in registry.LEVELS:
        if level == place.level:
            break
        parent = getattr(place.obj, level, None) if hasattr(place.obj, f"{level}_id") else None
        if parent is not None:
            covered = board.covers(place.places, level, parent)
            out.append((str(parent), reverse("cockpit:board", args=[level, parent.pk]) if covered else ""))
    out.append((place.name, ""))
    return out


class HomeView(CockpitView):
    """/cockpit/: the user's own board (the largest place their grant covers)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        home = board.home_place(request.user)
        if home is None:
            raise PermissionDenied(_("您没有查看驾驶舱的权限"))
        return redirect("cockpit:board", *home)


class BoardView(CockpitView):
    def get(self, request: HttpRequest, level: str, pk: int) -> HttpResponse:
        place = board.resolve_place(request.user, level, pk)
        wall = request.GET.get("wall") == "1"
        return render(request, "cockpit/board.html", _context(request, place, wall=wall))


class WallView(CockpitView):
    """/cockpit/wall/: the wall screen of the user's own board (1920×1080, dark, refreshing itself)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        home = board.home_place(request.user)
        if home is None:
            raise PermissionDenied(_("您没有查看驾驶舱的权限"))
        place = board.resolve_place(request.user, *home)
        return render(request, "cockpit/board.html", _context(request, place, wall=True))


class BoardDataView(CockpitView):
    def get(self, request: HttpRequest, level: str, pk: int) -> JsonResponse:
        place = board.resolve_place(request.user, level, pk)
        return JsonResponse(board.board_payload(place))


class MapDataView(CockpitView):
    def get(self, request: HttpRequest, level: str, pk: int) -> JsonResponse:
        place = board.resolve_place(request.user, level, pk)
        return JsonResponse(geo.map_data(place))
