"""``manage.py volunteers_demo`` on the test world (three grids of four residents)."""

from io import StringIO

import pytest
from django.core.management import call_command

from volunteers import ledger, services
from volunteers.models import Signup, Team, Transfer, Volunteer

pytestmark = pytest.mark.django_db


def test_the_demo_builds_branches_a_season_of_verified_hours_and_runs_once(world):
    out = StringIO()
    call_command("volunteers_demo", stdout=out)
    teams = list(Team.objects.all())
    assert len(teams) == 3 and all(t.name.startswith("海棠先锋") for t in teams)
    assert all(services.team_shape(t).ok for t in teams)
    assert Volunteer.objects.filter(user__username="resident").count() == 1
    assert Signup.objects.filter(verified_at__isnull=False).count() > 20
    assert Signup.objects.filter(checked_out_at__isnull=False, verified_at__isnull=True).exists()
    assert ledger.balance_figures()["ledger_balance"] == 0
    n = Transfer.objects.count()
    call_command("volunteers_demo", stdout=StringIO())
    assert Transfer.objects.count() == n
