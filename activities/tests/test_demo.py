"""``manage.py activities_demo`` on the test world (with the families of conftest.py): the three activities, the
summer class's 16 sessions with partial attendance and certificates, the workshop's applications; runs once."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from activities import services
from activities.models import Activity, SessionAttendance

pytestmark = pytest.mark.django_db


def test_the_demo_builds_the_workshop_and_the_summer_class_and_runs_once(world, fam):
    out = StringIO()
    call_command("activities_demo", stdout=out)
    summer = Activity.objects.get(title="青少年暑期班")
    assert summer.sessions.count() == 16 and summer.certificate_min == 12
    assert len({s.place for s in summer.sessions.all()}) == 2  # the two communities' rooms in turn
    f = services.attendance_figures(summer)
    assert f["participants"] >= 2 and 0 < f["rate"] < 100 and f["absent"] > 0
    assert SessionAttendance.objects.filter(session__activity=summer).count() == 16 * f["participants"]
    workshop = Activity.objects.get(title="迎新春·年画工作坊")
    assert workshop.mode == "allocation" and workshop.audience_communities.count() == 2
    assert workshop.signups.filter(state="applied").exists() and workshop.sessions.count() == 1
    assert "activities demo:" in out.getvalue()
    call_command("activities_demo", stdout=out)
    assert Activity.objects.count() == 3 and "already present" in out.getvalue()
