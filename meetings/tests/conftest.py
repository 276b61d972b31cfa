"""A small joint-meeting site on conftest.py's world.

    office tower 活力大厦 (grid A1) with two enterprises on floors 3 and 5, each an organisation
    the community's party committee (community A), the convener, with a booking person for rooms
    the joint meeting series 网格×楼宇企业联席会议 of community A, and its first meeting
    ent_user: an account bound to 一号科技 (its organisation's member); sec_user: bound to the party committee
    a series of community B too (grid B1), with its own enterprise and meeting
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

__all__ = ["at", "make_site"]


def at(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    from django.utils import timezone

    return timezone.make_aware(dt.datetime.combine(day, dt.time(hh, mm)))


def make_site(world):
    from django.contrib.auth import get_user_model

    from cases import deadlines
    from cases.models import CaseCategory, Holiday
    from cases.seed import seed
    from meetings import services
    from meetings.services import OrgData
    from people.models import Enterprise
    from places.models import Compound

    seed(CaseCategory, Holiday)
    deadlines.invalidate()
    users = get_user_model().objects
    officer = users.get(username="officer_a")
    tower = Compound.objects.create(grid=world.grids["A1"], name="活力大厦", kind="office", lat=31.381, lng=120.632)
    e1 = Enterprise.objects.create(name="一号科技", credit_code="91320507MA1AAAAA1X", compound=tower, floor=3)
    e2 = Enterprise.objects.create(name="二号物流", credit_code="91320507MA1BBBBB2X", compound=tower, floor=5)
    o1 = services.save_organisation(officer, OrgData(kind="enterprise", name="", enterprise=e1,
                                                     contact_name="钱经理", contact_phone="13900139001"))
    o2 = services.save_organisation(officer, OrgData(kind="enterprise", name="", enterprise=e2))
    party = services.save_organisation(officer, OrgData(kind="party", name="社区A党委",
                                                        community=world.communities["A"]))
    prop = services.save_organisation(officer, OrgData(kind="property", name="大厦物业", compound=tower))
    party.booker = world.people["张三"]
    party.save(update_fields=["booker"])
    series = services.create_series(officer, name="网格×楼宇企业联席会议", community=world.communities["A"],
                                    grid=world.grids["A1"], convener=party, organisations=[o1, o2, party, prop],
                                    deadline_days=5)
    ent_user = users.create_user("ent_user", password=world.password)
    sec_user = users.create_user("sec_user", password=world.password)
    services.add_member(officer, o1, ent_user, "行政主管")
    services.add_member(officer, party, sec_user, "党委书记")
    worker_b1 = users.get(username="worker_b1")
    tower_b = Compound.objects.create(grid=world.grids["B1"], name="B座大厦", kind="office")
    eb = Enterprise.objects.create(name="乙方公司", credit_code="91320507MA1CCCCC3X", compound=tower_b, floor=2)
    ob = services.save_organisation(None, OrgData(kind="enterprise", name="", enterprise=eb))
    series_b = services.create_series(None, name="B社区联席会议", community=world.communities["B"],
                                      grid=world.grids["B1"], organisations=[ob])
    meeting_b = services.schedule_meeting(None, series_b, starts_at=at(dt.date(2026, 11, 2), 14),
                                          ends_at=at(dt.date(2026, 11, 2), 16), title="B社区第一次")
    return SimpleNamespace(officer=officer, tower=tower, e1=e1, e2=e2, o1=o1, o2=o2, party=party, prop=prop,
                           series=series, ent_user=ent_user, sec_user=sec_user, worker_b1=worker_b1, eb=eb, ob=ob,
                           series_b=series_b, meeting_b=meeting_b, worker_a1=users.get(username="worker_a1"))


@pytest.fixture
def site(world):
    return make_site(world)
