"""``manage.py activities_demo``: the demo street's community activities.

* 迎新春·年画工作坊 — a Chinese New Year painting workshop held by the first community with three more (the four
  communities of the demo street: the one with the office tower first, as the demo accounts see it); sign-up is
  open, by allocation (a seeded lottery after sign-up closes): families from the four communities have applied.
* 青少年暑期班 — last summer's youth class for children aged 6–14, 16 sessions at distributed sites (the
  communities' activity rooms in turn), signed up by their parents, with partial attendance (about four in five
  per session, the rest no-shows recorded when each roll was closed) and certificates for 12 sessions or more.
* 独居老人茶话会 — a tea afternoon for the elderly living alone (a special-group rule), first come.

Sign-ups, cancellations, the roll and the allocation go through ``activities.services``; the attendance of the
past sessions is written in bulk (a demo of history) and each roll then closed through ``close_roll``.
Idempotent: a second run creates nothing.
"""

from __future__ import annotations

import datetime as dt
import random
import time

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from activities import services
from activities.choices import Attendance, SignUpState
from activities.models import Activity, Participant, Session, SessionAttendance

WORKSHOP = "迎新春·年画工作坊"
SUMMER = "青少年暑期班"
TEA = "独居老人茶话会"


def _at(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hh, mm)))


class Command(BaseCommand):
    help = "社区活动演示数据 / demo community activities"

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=15)

    def handle(self, *args, seed: int, **options):
        from places.models import Community, Compound, Grid

        if Activity.objects.filter(title=SUMMER).exists():
            self.stdout.write("activities demo already present")
            return
        started = time.monotonic()
        rng = random.Random(f"activities:{seed}")
        office = Compound._base_manager.filter(community=OuterRef("pk"), kind="office")
        communities = list(Community._base_manager.annotate(office=Exists(office)).order_by("-office", "id")[:4])
        if not communities:
            raise CommandError("no communities in the registry: run manage.py demo first")
        host = communities[0]
        grid = Grid._base_manager.filter(community=host).annotate(n=Count("houses")).order_by("-n", "id").first()
        if grid is None:
            raise CommandError("the first community has no grid")
        today = timezone.localdate()
        summer = self.summer(grid, communities, rng, today)
        workshop = self.workshop(grid, communities, rng, today)
        tea = self.tea(grid, host, rng, today)
        f = services.attendance_figures(summer)
        self.stdout.write(
            f"activities demo: {SUMMER} {f['participants']} children, {f['sessions']} sessions, attendance "
            f"{f['rate']}%, {f['certificates']} certificates; {WORKSHOP} {workshop.signups.count()} applications; "
            f"{TEA} {tea.signups.count()} sign-ups; in {time.monotonic() - started:.1f}s")

    # --- who ------------------------------------------------------------------------------------------------
    def families(self, communities, on: dt.date, low: int, high: int, limit: int, rng) -> list[tuple]:
        """(parent, [children]) of current households in these communities with children aged low–high on ``on``."""
        from people.models import Person, Residence

        born_after = dt.date(on.year - high - 1, on.month, min(on.day, 28))
        born_before = dt.date(on.year - low, on.month, min(on.day, 28))
        kids = list(Residence._base_manager.filter(
            moved_out__isnull=True, house__community__in=communities, person__birth_date__gt=born_after,
            person__birth_date__lte=born_before).values_list("house_id", "person_id")[:limit * 6])
        by_house: dict[int, list[int]] = {}
        for house, person in kids:
            by_house.setdefault(house, []).append(person)
        houses = sorted(by_house)
        rng.shuffle(houses)
        out = []
        adult_born = dt.date(on.year - 25, 1, 1)
        for house in houses:
            adult = (Residence._base_manager.filter(house_id=house, moved_out__isnull=True,
                                                    person__birth_date__lte=adult_born)
                     .select_related("person").order_by("id").first())
            if adult is None:
                continue
            children = list(Person._base_manager.filter(pk__in=by_house[house][:3]))
            out.append((adult.person, children))
            if len(out) >= limit:
                break
        return out

    def _sessions(self, activity, days, places, start=(9, 0), end=(11, 0), topics=()):
        for i, day in enumerate(days):
            services.add_session(None, activity, starts_at=_at(day, *start), ends_at=_at(day, *end),
                                 place=places[i % len(places)], topic=topics[i % len(topics)] if topics else "")

    # --- the summer class (past, with attendance) -------------------------------------------------------------
    def summer(self, grid, communities, rng, today):
        year = today.year if today >= dt.date(today.year, 9, 1) else today.year - 1
        first = dt.date(year, 7, 6)
        days = []
        d = first
        while len(days) < 16:  # Monday, Wednesday and Friday mornings
            if d.weekday() in (0, 2, 4):
                days.append(d)
            d += dt.timedelta(days=1)
        a = Activity.objects.create(
            title=SUMMER, grid=grid, organiser_kind="community", contact="社区团委 周老师", capacity=40,
            max_family=3, min_age=6, max_age=14, mode="first_come", certificate_min=12, status="published",
            signup_opens=_at(dt.date(year, 6, 1), 8), signup_closes=_at(dt.date(year, 7, 3), 20),
            description="书法、科学实验、非遗剪纸、安全教育、体育游戏，共16次课，在各社区活动室轮流开展。",
            summary="暑期班共开课16次，由社区工作者、志愿者和辖区学校老师授课，内容涵盖书法、科学实验、"
                    "剪纸、防溺水安全教育等。孩子们在家门口度过了充实的暑假。")
        a.audience_communities.set(communities)
        places = [f"{c.name}党群服务中心活动室" for c in communities]
        topics = ["开班仪式·安全教育", "书法入门", "科学小实验", "非遗剪纸", "防溺水教育", "趣味体育", "绘本阅读",
                  "垃圾分类小课堂", "手工制作", "象棋", "科学小实验（二）", "书法进阶", "消防演练", "红色故事会",
                  "才艺排练", "结业汇报"]
        self._sessions(a, days, places, topics=topics)
        signup_time = _at(dt.date(year, 6, 2), 9)
        n = 0
        for parent, children in self.families(communities, first, 6, 14, 30, rng):
            if n >= a.capacity:
                break
            eligible = [c for c in children if not services.audience_refusal(a, [c], first)[c.pk]][:3]
            if not eligible:
                continue
            try:
                services.sign_up(a, parent, eligible, channel="phone", now=signup_time, audit_it=False)
                n += len(eligible)
            except Exception:  # noqa: BLE001, S112 - a family the rules refuse is simply not in the demo
                continue
        # attendance: each child comes to about four sessions in five (some much less), the rest are no-shows
        parts = list(Participant.objects.filter(activity=a, live=True, signup__state=SignUpState.CONFIRMED))
        keen = {p.pk: rng.choice([0.95, 0.9, 0.85, 0.8, 0.6, 0.4]) for p in parts}
        for s in Session.objects.filter(activity=a).order_by("starts_at"):
            at = s.starts_at + dt.timedelta(minutes=5)
            SessionAttendance.objects.bulk_create([
                SessionAttendance(session=s, participant=p, state=Attendance.PRESENT, at=at,
                                  method=rng.choice(["qr", "qr", "list", "self"])) for p in parts
                if rng.random() < keen[p.pk]])
            if s.ends_at <= timezone.now():
                services.close_roll(None, s, now=s.ends_at)
        return a

    # --- the painting workshop (upcoming, allocation) --------------------------------------------------------
    def workshop(self, grid, communities, rng, today):
        lunar = {2026: dt.date(2026, 2, 17), 2027: dt.date(2027, 2, 6), 2028: dt.date(2028, 1, 26)}
        new_year = next((d for y, d in sorted(lunar.items()) if d - dt.timedelta(days=10) > today),
                        today + dt.timedelta(days=40))
        day = new_year - dt.timedelta(days=14)
        while day.weekday() != 5:  # a Saturday two weeks before the festival
            day -= dt.timedelta(days=1)
        a = Activity.objects.create(
            title=WORKSHOP, grid=grid, organiser_kind="partner", partner_name="桃花坞木刻年画社",
            contact="社区文化站", capacity=24, max_family=3, mode="allocation", allocation_rule="priority",
            hold_hours=24, status="published",
            signup_opens=timezone.now() - dt.timedelta(days=3), signup_closes=_at(day - dt.timedelta(days=7), 20),
            description="四个社区联合举办，桃花坞年画传承人现场教学，亲子共同完成一幅木版年画。"
                        "报名人数多时统一摇号，主办社区居民优先，一家人同进同出。")
        a.audience_communities.set(communities)
        self._sessions(a, [day], [f"{communities[0].name}文化活动中心"], start=(14, 0), end=(16, 30))
        now = timezone.now() - dt.timedelta(days=2)
        for i, (parent, children) in enumerate(self.families(communities, day, 4, 14, 18, rng)):
            people = [parent, *children[:2]] if i % 3 else children[:2]
            try:
                services.sign_up(a, parent, people, channel="phone", now=now + dt.timedelta(minutes=7 * i),
                                 audit_it=False)
            except Exception:  # noqa: BLE001, S112 - refused by the rules: not in the demo
                continue
        return a

    # --- tea for the elderly living alone (upcoming, first come) --------------------------------------------
    def tea(self, grid, host, rng, today):
        from people.models import Person, Tag

        tag = Tag.objects.filter(code="elderly_alone").first()
        day = today + dt.timedelta(days=(3 - today.weekday()) % 7 + 7)  # Thursday next week
        a = Activity.objects.create(
            title=TEA, grid=grid, organiser_kind="community", contact="社区居家养老服务站", capacity=20,
            max_family=1, mode="first_come", status="published", signup_opens=timezone.now() - dt.timedelta(days=1),
            signup_closes=_at(day - dt.timedelta(days=1), 18),
            description="社区志愿者陪伴聊天、测血压、包饺子。行动不便的老人可请网格员代为报名。")
        if tag is not None:
            a.audience_tags.set([tag])
        a.audience_communities.set([host])
        self._sessions(a, [day], [f"{host.name}日间照料中心"], start=(14, 30), end=(16, 0))
        if tag is not None:
            elderly = list(Person._base_manager.filter(person_tags__tag=tag, community=host, is_current=True)
                           .order_by("id")[:14])
            for p in elderly:
                try:
                    services.sign_up(a, p, [p], channel="walk_in", audit_it=False)
                except Exception:  # noqa: BLE001, S112 - refused by the rules: not in the demo
                    continue
        return a
