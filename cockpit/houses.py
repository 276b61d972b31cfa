"""The building board's 楼栋图: the houses of one building by unit and floor (places' layout), coloured by a
registered house state — freshness by default.

The default freshness colouring reads the verification state that the quality app keeps per house through
House's reverse relation ``quality_status`` (no import of quality; registered only when that relation exists):
"fresh" (verified and not yet due), "stale" (due or overdue), "never" (never verified). Without it, and as a
second choice always, the houses are coloured by occupancy (lived in / empty / registered vacant but lived in).
When another app registers its own house states (quality registers "quality.freshness"), the default freshness
colouring steps aside.
"""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _

from cockpit import registry
from places.models import House
from places.views import HOUSE_VIEW_FIELDS, building_layout

__all__ = ["building_grid", "freshness_states", "occupancy_states", "register_default_states"]

UNKNOWN_COLOUR = "#868e96"
FRESHNESS = {"fresh": (_("已核实"), "#2f9e44"), "stale": (_("待复核"), "#e8590c"), "never": (_("从未核实"), "#495057")}
OCCUPANCY = {"lived": (_("有人居住"), "#1971c2"), "empty": (_("无人居住"), "#adb5bd"),
             "mismatch": (_("登记空置但有人居住"), "#c2255c")}


def freshness_states(house_ids: list[int]) -> dict[int, str]:
    rows = House.objects.filter(pk__in=house_ids).values_list("pk", "quality_status__is_stale",
                                                               "quality_status__last_verified_at")
    return {pk: ("never" if verified is None else "stale" if stale else "fresh") for pk, stale, verified in rows}


def occupancy_states(house_ids: list[int]) -> dict[int, str]:
    rows = House.objects.filter(pk__in=house_ids).values_list("pk", "use", "resident_count")
    return {pk: ("mismatch" if n and use == "vacant" else "lived" if n else "empty") for pk, use, n in rows}


def register_default_states() -> None:
    try:
        House._meta.get_field("quality_status")
    except FieldDoesNotExist:
        pass
    else:
        registry.register_house_state("cockpit.freshness", title=_("数据新鲜度"), compute=freshness_states,
                                      states=FRESHNESS, order=10)
    registry.register_house_state("cockpit.occupancy", title=_("居住情况"), compute=occupancy_states,
                                  states=OCCUPANCY, order=90)


def building_grid(building, state_key: str | None = None) -> dict:
    """Units × floors of the building with each house's state under the chosen colouring (one query for the
    houses, one for their states)."""
    houses = list(House.objects.filter(building_id=building.pk).only(*HOUSE_VIEW_FIELDS).order_by())
    states = registry.house_states()
    if any(not s.key.startswith("cockpit.") for s in states):  # an app's own freshness replaces the default
        states = [s for s in states if s.key != "cockpit.freshness"]
    chosen = next((s for s in states if s.key == state_key), states[0] if states else None)
    values = chosen.compute([h.pk for h in houses]) if chosen and houses else {}
    units = building_layout(building, houses)
    legend = []
    if chosen:
        legend = [{"state": k, "label": str(label), "color": color} for k, (label, color) in chosen.states.items()]
        if any(h.pk not in values for h in houses):
            legend.append({"state": "", "label": str(_("无记录")), "color": UNKNOWN_COLOUR})
        colours = {k: color for k, (_label, color) in chosen.states.items()}
        for block in units:
            for _floor, cells in block.floors:
                for c in cells:
                    c.state = values.get(c.house.pk, "")
                    c.color = colours.get(c.state, UNKNOWN_COLOUR)
                    c.state_label = str(chosen.states.get(c.state, (_("无记录"), ""))[0])
    return {"units": units, "legend": legend, "chosen": chosen.key if chosen else "",
            "choices": [{"key": s.key, "title": str(s.title)} for s in states]}
