"""Fixtures of cases: the shared ``world`` plus handling units with members, and the reporting helpers."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from conftest import make_user


@pytest.fixture(autouse=True)
def _cases_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    from cases import deadlines

    deadlines.invalidate()
    yield
    deadlines.invalidate()


def build_cases(world) -> SimpleNamespace:
    from cases import deadlines
    from cases.models import CaseCategory, Holiday, Unit, UnitKind
    from cases.seed import seed
    from cases.services import add_unit_member

    seed(CaseCategory, Holiday)  # transactional tests flush what the data migration seeded
    deadlines.invalidate()

    prop = Unit.objects.create(name="A1物业公司", kind=UnitKind.PROPERTY, street_id=world.street.pk,
                               community_id=world.communities["A"].pk)
    dept = Unit.objects.create(name="城管中队", kind=UnitKind.DEPARTMENT, street_id=world.street.pk)
    other = Unit.objects.create(name="B1物业公司", kind=UnitKind.PROPERTY, street_id=world.street.pk,
                                community_id=world.communities["B"].pk)
    users = SimpleNamespace(
        unit_prop=make_user("unit_prop"), unit_dept=make_user("unit_dept"), unit_other=make_user("unit_other"),
        officer_b=make_user("officer_b", "community_officer", "community", street=world.street,
                            community=world.communities["B"], roles=world.roles),
    )
    add_unit_member(None, prop, users.unit_prop)
    add_unit_member(None, dept, users.unit_dept)
    add_unit_member(None, other, users.unit_other)
    return SimpleNamespace(units=SimpleNamespace(prop=prop, dept=dept, other=other), users=users,
                           category=CaseCategory.objects.get(code="property-repair"),
                           noise=CaseCategory.objects.get(code="neighbour-noise"))


@pytest.fixture
def cw(world):
    return build_cases(world)


def fresh(user):
    """The user re-read (no cached scope)."""
    return type(user).objects.get(pk=user.pk)
