"""The access matrix of quality's scoped models: which grids' rows each persona reaches through
``restrict(user, action)``, written from the personas and the role table (not from the code)."""

from __future__ import annotations

import pytest

from quality import services
from quality.models import HouseStatus, QualityIssue
from quality.tests.conftest import add_person

pytestmark = pytest.mark.django_db

GRIDS = ("A1", "A2", "B1")
EXPECTED = {
    # persona: {action: grids reached}
    "worker_a1": {"view": {"A1"}, "resolve": set(), "assign": set()},
    "worker_a2": {"view": {"A2"}, "resolve": set(), "assign": set()},
    "worker_b1": {"view": {"B1"}, "resolve": set(), "assign": set()},
    "officer_a": {"view": {"A1", "A2"}, "resolve": {"A1", "A2"}, "assign": {"A1", "A2"}},
    "command": {"view": {"A1", "A2", "B1"}, "resolve": set(), "assign": set()},
    "sysadmin": {"view": set(), "resolve": set(), "assign": set()},
    "secadmin": {"view": set(), "resolve": set(), "assign": set()},
    "auditor": {"view": set(), "resolve": set(), "assign": set()},
    "resident": {"view": set(), "resolve": set(), "assign": set()},
}


@pytest.fixture
def rows(world):
    for g in GRIDS:
        add_person(world.houses[g][7], f"配偶{g}", relation="spouse")
    services.recompute()
    return world


def grids_of(world, qs) -> set[str]:
    ids = set(qs.values_list("grid_id", flat=True))
    return {g for g in GRIDS if world.grids[g].pk in ids}


@pytest.mark.parametrize("persona", list(EXPECTED))
def test_restrict_reaches_exactly_the_expected_grids(rows, persona):
    user = getattr(rows.users, persona)
    want = EXPECTED[persona]
    assert grids_of(rows, HouseStatus.objects.restrict(user, "view")) == want["view"]
    assert grids_of(rows, QualityIssue.objects.restrict(user, "view")) == want["view"]
    assert grids_of(rows, QualityIssue.objects.restrict(user, "resolve")) == want["resolve"]
    assert grids_of(rows, HouseStatus.objects.restrict(user, "assign")) == want["assign"]
    assert grids_of(rows, HouseStatus.objects.restrict(user, "change")) == set()  # statuses change only by services


def test_anonymous_reaches_nothing(rows):
    from django.contrib.auth.models import AnonymousUser

    assert not HouseStatus.objects.restrict(AnonymousUser(), "view").exists()
    assert not QualityIssue.objects.restrict(None, "view").exists()


def test_the_matrix_is_not_trivial():
    reached = [bool(v) for p in EXPECTED.values() for v in p.values()]
    assert any(reached) and not all(reached)
