"""The demo: six joint meetings of the tower with the seed's resolutions part done part overdue, the
party-building community of 11 organisations with two co-building projects, 5 youth-league organisations, the
enterprises' visits and needs; fast, and idempotent."""

from __future__ import annotations

import time

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_demo_builds_the_seeds_joint_meetings_and_enterprise_services(world):
    from cases import deadlines
    from cases.models import CaseCategory, Holiday
    from cases.seed import seed
    from meetings.choices import ResolutionState
    from meetings.models import Meeting, Need, Organisation, OrgGroup, OrgMember, Project, Resolution
    from people.models import Enterprise
    from places.models import Compound

    seed(CaseCategory, Holiday)
    deadlines.invalidate()
    tower = Compound.objects.create(grid=world.grids["A1"], name="活力大厦", kind="office")
    for i in range(12):
        Enterprise.objects.create(name=f"企业{i}", credit_code=f"91320507MA1{i:06d}X"[:18].ljust(18, "0"),
                                  compound=tower, floor=2 + i % 5)
    started = time.monotonic()
    call_command("meetings_demo", stdout=open("/dev/null", "w"))
    assert time.monotonic() - started < 20
    assert Meeting.objects.filter(state="held").count() == 6
    titles = " ".join(Resolution.objects.values_list("title", flat=True))
    for words in ("共享食堂", "车库夜间", "摆渡车", "共享冰箱", "清洁服务"):
        assert words in titles
    done = Resolution.objects.filter(state=ResolutionState.DONE)
    overdue = Resolution.objects.overdue()
    assert done.count() >= 4 and overdue.count() >= 3
    assert all(r.escalation_level > 0 for r in overdue)
    party = OrgGroup.objects.get(name="相韵同心区域党建共同体")
    assert party.members.count() == 11 and Project.objects.filter(group=party).count() == 2
    assert Organisation.objects.filter(kind="youth").count() == 5
    assert Organisation.objects.filter(kind="enterprise", compound=tower).count() == 12
    assert Need.objects.exists() and Need.objects.exclude(satisfaction="").exists()
    assert OrgMember.objects.filter(user__username="ent1").exists()
    # the last meeting's agenda carries what was still open
    last = Meeting.objects.order_by("-number").first()
    assert last.carried == last.agenda.filter(carried_from__isnull=False).count() > 0
    before = Resolution.objects.count()
    call_command("meetings_demo", stdout=open("/dev/null", "w"))
    assert Resolution.objects.count() == before
