
import pytest

from volunteers import services
from volunteers.cockpit import compute_figures, compute_monthly

from .conftest import at

pytestmark = pytest.mark.django_db


def test_verified_hours_active_volunteers_and_staffed_shifts_per_grid_and_community(site, done, world):
    services.verify(site.worker, done, now=at(site.day, 12))
    services.sign_up(site.v2, services.add_shifts(site.worker, site.task, at(site.day, 14), at(site.day, 16))[0],
                     now=at(site.day, 8))
    now = at(site.day, 18)
    grid = compute_figures("grid", now=now)[site.grid.pk]
    assert grid == {"hours": 1.75, "active": 1, "staffed": 1, "shifts": 2}
    community = compute_figures("community", [site.grid.community_id], now=now)[site.grid.community_id]
    assert community["hours"] == 1.75
    assert world.grids["B1"].pk not in compute_figures("grid", now=now)
    month = f"{site.day.month:02d}"
    assert compute_monthly("street", now=now)[world.street.pk] == {month: 1.75}


def test_the_panels_are_registered():
    from cockpit import registry

    keys = {p.key for p in registry.panels()}
    assert {"volunteers.figures", "volunteers.monthly"} <= keys
