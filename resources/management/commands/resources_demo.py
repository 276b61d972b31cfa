"""``manage.py resources_demo``: the shared resources of the demo street, and a few weeks of their use.

The office tower's garage (night spaces 19:00–08:00 for the residents of two compounds), those two compounds' lots
(day spaces 08:00–18:00 for the tower's employees), the shared living room 荟·客厅 with its three zones, the
canteen's lunch sittings, the air-conditioner cleaning service (one per household a season), the No. 23 shuttle and
the shared fridge; employees of the tower's enterprises and vehicles of households; three weeks of bookings, with
check-ins and the no-shows the release job let go, and next week's bookings. Bookings go through
``resources.services.book`` (the booker read once, no audit row per demo booking); check-ins through
``check_in``; the no-shows through ``release_no_shows``. The ``resident`` demo account books as a resident of the
first compound. Idempotent: a second run creates nothing.
"""

from __future__ import annotations

import datetime as dt
import random
import time

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from resources import services
from resources.choices import BookingState, Mode, Period, Subject
from resources.models import BookerLink, EligibilityRule, Employment, Quota, Resource, Vehicle, Window

GARAGE_CODE = "DEMO-GARAGE"
PROVINCE = "苏E"
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"


def _at(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hh, mm)))


class Command(BaseCommand):
    help = "共享资源演示数据 / demo shared resources and a few weeks of bookings"

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=14)
        parser.add_argument("--weeks", type=int, default=3, help="weeks of past use")

    def handle(self, *args, seed: int, weeks: int, **options):
        from places.models import Compound

        if Resource.objects.filter(code=GARAGE_CODE).exists():
            self.stdout.write("resources demo already present")
            return
        started = time.monotonic()
        rng = random.Random(f"resources:{seed}")
        tower = Compound._base_manager.filter(kind="office").order_by("id").first()
        if tower is None:
            raise CommandError("no office tower in the registry: run manage.py demo first")
        homes = self.pick_compounds(tower)
        if len(homes) < 2:
            raise CommandError("the street needs two residential compounds with residents")
        a, b = homes
        with transaction.atomic():
            site = self.build(tower, a, b)
            people = self.people(a, b, tower, rng)
            self.vehicles(people["residents"], tower, rng)
        stats = self.use(site, people, rng, weeks)
        self.link_resident(site, people)
        self.draws(site, people, rng)
        self.stdout.write(f"resources demo: {Resource.objects.count()} resources, {stats['booked']} bookings "
                          f"({stats['checked_in']} checked in, {stats['released']} no-shows released, "
                          f"{stats['refused']} refused) in {time.monotonic() - started:.1f}s")

    # --- places ---------------------------------------------------------------------------------------------
    def pick_compounds(self, tower) -> list:
        """Two residential compounds of the tower's community with the most current residents (the demo community
        officer's: demo/accounts.py puts the tower's community first), or else of the street."""
        from django.db.models import Case, IntegerField, Value, When

        from places.models import Compound

        qs = (Compound._base_manager.filter(street_id=tower.street_id).exclude(kind="office")
              .annotate(n=Count("houses__residences", filter=Q(houses__residences__moved_out__isnull=True)),
                        elsewhere=Case(When(community_id=tower.community_id, then=Value(0)), default=Value(1),
                                       output_field=IntegerField()))
              .filter(n__gt=0).order_by("elsewhere", "-n", "id"))  # the tower's community first, then the street's
        return list(qs[:2])

    def build(self, tower, a, b) -> dict:
        night = EligibilityRule.objects.create(name=f"夜间停车：{a.name}、{b.name}现住居民")
        night.residents_of.set([a, b])
        day_rule = EligibilityRule.objects.create(name=f"白天停车：{tower.name}内企业员工")
        day_rule.employees_in.set([tower])
        residents = EligibilityRule.objects.create(name=f"{a.name}、{b.name}居民")
        residents.residents_of.set([a, b])
        parking = {"raster_minutes": 60, "min_minutes": 60, "max_minutes": 24 * 60, "horizon_days": 31,
                   "grace_minutes": 30, "cancel_minutes": 60, "opens_at": dt.time(0), "closes_at": dt.time(0),
                   "hold_hours": 2}

        def pool(name, code, compound, n, prefix, owner, window, rule):
            p = Resource.objects.create(kind="parking_pool", mode=Mode.GROUP, name=name, code=code, compound=compound,
                                        owner_name=owner, location="地下一层" if prefix == "B1" else "",
                                        description="潮汐停车", **parking)
            Resource.objects.bulk_create([
                Resource(kind="parking_space", mode=Mode.EXCLUSIVE, name=f"{prefix}-{i:03d}", code=f"{prefix}-{i:03d}",
                         parent=p, compound=compound, grid_id=compound.grid_id, community_id=compound.community_id,
                         street_id=compound.street_id, **parking) for i in range(1, n + 1)])
            Window.objects.create(resource=p, label=window[0], starts=window[1], ends=window[2], rule=rule)
            return p

        garage = pool(f"{tower.name}地下车库", GARAGE_CODE, tower, 40, "B1", f"{tower.name}物业",
                      ("夜间", dt.time(19), dt.time(8)), night)
        lot_a = pool(f"{a.name}地面停车场", "DEMO-LOT-A", a, 12, "P", f"{a.name}物业",
                     ("白天", dt.time(8), dt.time(18)), day_rule)
        lot_b = pool(f"{b.name}地面停车场", "DEMO-LOT-B", b, 8, "Q", f"{b.name}物业",
                     ("白天", dt.time(8), dt.time(18)), day_rule)
        Quota.objects.create(resource=garage, subject=Subject.HOUSEHOLD, period=Period.DAY, limit=1)
        for lot in (lot_a, lot_b):
            Quota.objects.create(resource=lot, subject=Subject.ENTERPRISE, period=Period.DAY, limit=4)
        room_rules = {"opens_at": dt.time(8), "closes_at": dt.time(21), "raster_minutes": 30, "min_minutes": 60,
                      "max_minutes": 240, "horizon_days": 14, "grace_minutes": 20, "cancel_minutes": 120}
        room = Resource.objects.create(kind="space", mode=Mode.EXCLUSIVE, name="荟·客厅", code="DEMO-ROOM",
                                       compound=a, owner_name="社区党群服务中心", location=f"{a.name}邻里中心二楼",
                                       description="约300平方米，居民、企业、商户与新就业群体共享", buffer_minutes=30,
                                       **room_rules)
        zones = [Resource.objects.create(kind="zone", mode=Mode.EXCLUSIVE, name=f"荟·客厅{z}", code=f"DEMO-ROOM-{i}",
                                         parent=room, compound=a, owner_name="社区党群服务中心",
                                         needs_approval=z == "共享厨房", **room_rules)
                 for i, z in enumerate(("阅读区", "活动区", "共享厨房"), 1)]
        canteen = Resource.objects.create(kind="canteen", mode=Mode.SEATS, name="共享食堂午餐", code="DEMO-CANTEEN",
                                          compound=a, owner_name="社区共享食堂", capacity=60,
                                          start_times=["11:00", "11:45", "12:30"], sitting_minutes=40,
                                          opens_at=dt.time(10, 30), closes_at=dt.time(13, 30), horizon_days=7,
                                          workdays_only=True, grace_minutes=15, cancel_minutes=60)
        cleaning = Resource.objects.create(kind="service", mode=Mode.DAILY, name="空调免费清洗", code="DEMO-CLEAN",
                                           compound=a, owner_name="社区志愿服务队", capacity=6, opens_at=dt.time(9),
                                           closes_at=dt.time(17), workdays_only=True, horizon_days=60,
                                           requires_checkin=False, cancel_minutes=24 * 60, rule=residents)
        Quota.objects.create(resource=cleaning, subject=Subject.HOUSEHOLD, period=Period.SEASON, limit=1)
        shuttle = Resource.objects.create(kind="shuttle", mode=Mode.SEATS, name="23路社区班车", code="DEMO-SHUTTLE",
                                          compound=a, owner_name="街道公交服务站", location=f"{a.name}东门—地铁站",
                                          capacity=20, start_times=["07:30", "08:00", "17:30", "18:00"],
                                          sitting_minutes=30, opens_at=dt.time(7), closes_at=dt.time(19),
                                          workdays_only=True, horizon_days=7, grace_minutes=5, cancel_minutes=30)
        fridge = Resource.objects.create(kind="checkpoint", mode=Mode.NONE, name="共享冰箱", code="DEMO-FRIDGE",
                                         compound=a, owner_name="社区志愿服务队", location=f"{a.name}邻里中心一楼")
        return {"garage": garage, "lots": [lot_a, lot_b], "room": room, "zones": zones, "canteen": canteen,
                "cleaning": cleaning, "shuttle": shuttle, "fridge": fridge, "a": a, "b": b, "tower": tower}

    # --- people ---------------------------------------------------------------------------------------------
    def people(self, a, b, tower, rng) -> dict:
        from people.models import Enterprise, Person, Residence

        rows = list(Residence._base_manager.filter(house__compound__in=[a, b], moved_out__isnull=True)
                    .select_related("person", "house").order_by("id"))
        today = timezone.localdate()
        adults = [r for r in rows if (r.person.age(today) or 30) >= 18]
        # from both compounds alike (the first rows by id may all be one compound's)
        residents = [r for r in adults if r.house.compound_id == a.pk][:200] + \
            [r for r in adults if r.house.compound_id == b.pk][:200]
        enterprises = list(Enterprise._base_manager.filter(compound=tower).order_by("id"))
        # Employees of the tower's enterprises: adults living elsewhere in the street.
        employees = []
        if enterprises:
            others = list(Person._base_manager.filter(residences__moved_out__isnull=True,
                                                      street_id=tower.street_id)
                          .exclude(residences__house__compound__in=[a, b]).order_by("id")[:3000])
            chosen = rng.sample(others, min(len(others), 120))
            Employment.objects.bulk_create([
                Employment(person=p, enterprise=rng.choice(enterprises),
                           since=dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(900))) for p in chosen])
            employees = chosen
        return {"residents": residents, "employees": employees}

    def vehicles(self, residents, tower, rng) -> None:
        """A registered car for about half the households (a tenth of them new-energy), through the format check."""
        from people.models import Enterprise

        used = set(Vehicle._base_manager.values_list("plate", flat=True))
        houses = {r.house_id: r.house for r in residents}
        owners = [("house", h) for h in houses.values() if rng.random() < 0.5]
        owners += [("enterprise", e) for e in Enterprise._base_manager.filter(compound=tower).order_by("id")[:20]]
        rows = []
        for kind, owner in owners:
            while True:
                digits = f"{rng.randrange(100000):05d}"
                plate = (f"{PROVINCE}D{digits}" if rng.random() < 0.1
                         else f"{PROVINCE}{rng.choice(PLATE_LETTERS)}{digits[1:]}")
                if plate not in used:
                    break
            used.add(plate)
            plate = services.normalise_plate(plate)
            rows.append(Vehicle(plate=plate, new_energy=len(plate) == 8, house=owner if kind == "house" else None,
                                enterprise=owner if kind == "enterprise" else None, grid_id=owner.grid_id,
                                community_id=owner.community_id, street_id=owner.street_id))
        Vehicle.objects.bulk_create(rows)

    # --- use ------------------------------------------------------------------------------------------------
    def use(self, site, people, rng, weeks) -> dict:
        today = timezone.localdate()
        now = timezone.now()
        stats = {"booked": 0, "checked_in": 0, "released": 0, "refused": 0}
        bookers = {}

        def booker(person):
            if person.pk not in bookers:
                bookers[person.pk] = services.booker_for(person)
            return bookers[person.pk]

        def book(person, resource, start, end, show=0.88):
            """Book as of an hour before (the past) or now (the future); a past booking is checked in, or not."""
            past = start < now
            try:
                b = services.book(person, resource, start, end, booker=booker(person), audit_it=False,
                                  now=start - dt.timedelta(hours=1) if past else now, channel="demo")
            except ValidationError:
                stats["refused"] += 1
                return None
            stats["booked"] += 1
            if past and b.state == BookingState.CONFIRMED and b.resource.requires_checkin and rng.random() < show:
                services.check_in(b, method=rng.choice(["qr", "qr", "plate"]),
                                  now=start + dt.timedelta(minutes=rng.randrange(-10, 20)))
                stats["checked_in"] += 1
            return b

        residents = people["residents"]
        with_car = [r.person for r in residents if booker(r.person).vehicle_ids]
        employees = people["employees"]
        first = today - dt.timedelta(days=7 * weeks)
        day = first
        while day <= today + dt.timedelta(days=6):
            weekday = day.weekday() < 5
            with transaction.atomic():
                # the tide: night spaces in the tower for the compounds' cars (fuller on weeknights)
                for p in rng.sample(with_car, min(len(with_car), rng.randint(18, 30) if weekday else
                                                  rng.randint(10, 18))):
                    book(p, site["garage"], _at(day, 19), _at(day + dt.timedelta(days=1), 8))
                # day spaces in the compounds' lots for the tower's employees
                if weekday and employees:
                    for lot, n in zip(site["lots"], (10, 7), strict=True):
                        for p in rng.sample(employees, min(len(employees), rng.randint(n - 3, n))):
                            book(p, lot, _at(day, 8), _at(day, 18))
                # the living room: a few blocks a day in its zones, sometimes the whole room
                for hh in rng.sample([9, 10, 14, 15, 16, 19], 3):
                    target = site["room"] if rng.random() < 0.15 else rng.choice(site["zones"][:2])
                    book(rng.choice(residents).person, target, _at(day, hh), _at(day, hh + rng.choice([1, 2])))
                if rng.random() < 0.5:
                    book(rng.choice(residents).person, site["zones"][2], _at(day, 17), _at(day, 19))
                if weekday:
                    for t in site["canteen"].start_times:
                        hh, mm = (int(x) for x in t.split(":"))
                        for r in rng.sample(residents, min(len(residents), rng.randint(12, 30))):
                            book(r.person, site["canteen"], _at(day, hh, mm), None, show=0.93)
                    for t in site["shuttle"].start_times:
                        hh, mm = (int(x) for x in t.split(":"))
                        for r in rng.sample(residents, min(len(residents), rng.randint(6, 16))):
                            book(r.person, site["shuttle"], _at(day, hh, mm), None, show=0.9)
                    for r in rng.sample(residents, min(len(residents), rng.randint(2, 6))):
                        book(r.person, site["cleaning"], _at(day, 9), None)
            day += dt.timedelta(days=1)
        # the fridge: visits checked in at the point
        from resources.models import CheckIn

        CheckIn.objects.bulk_create([
            CheckIn(resource=site["fridge"], person=rng.choice(residents).person, method="qr",
                    at=_at(first + dt.timedelta(days=rng.randrange(7 * weeks)), rng.randint(7, 21), rng.randrange(60)))
            for _ in range(60 * weeks)])
        stats["released"] = services.release_no_shows(now=now)
        return stats

    def draws(self, site, people, rng) -> None:
        """Next month's night spaces of the garage are oversubscribed: an open draw with applicants (the demo resident
        may still apply), and the one of the week just past, drawn (its result published with its seed)."""
        from resources import lottery
        from resources.models import Application, Draw

        garage = site["garage"]
        today = timezone.localdate()
        first = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        residents = [r.person for r in people["residents"]]
        linked = set(BookerLink.objects.values_list("person_id", flat=True))
        pool = [p for p in dict.fromkeys(residents) if p.pk not in linked]
        rng.shuffle(pool)
        cut = min(36, len(pool) * 2 // 3)
        upcoming = Draw.objects.create(resource=garage, title=f"{first.month}月夜间车位摇号", starts_at=_at(first, 19),
                                       ends_at=_at(first + dt.timedelta(days=1), 8), last_date=last,
                                       places=max(1, cut // 4))
        Application.objects.bulk_create([Application(draw=upcoming, person=p) for p in pool[:cut]])
        soon = today + dt.timedelta(days=3)
        past = Draw.objects.create(resource=garage, title=f"{soon.month}月{soon.day}日夜间车位摇号（示例）",
                                   starts_at=_at(soon, 19), ends_at=_at(soon + dt.timedelta(days=1), 8),
                                   places=max(1, len(pool[cut:cut + 20]) // 4))
        Application.objects.bulk_create([Application(draw=past, person=p) for p in pool[cut:cut + 20]])
        lottery.run_draw(past, seed=f"demo-{soon.isoformat()}")

    def link_resident(self, site, people) -> None:
        """The ``resident`` demo account books as a householder of the first compound who has a car."""
        user = get_user_model().objects.filter(username="resident").first()
        if user is None or BookerLink.objects.filter(user=user).exists():
            return
        taken = set(BookerLink.objects.values_list("person_id", flat=True))
        candidates = sorted((r for r in people["residents"] if r.person_id not in taken),
                            key=lambda r: r.house.compound_id != site["a"].pk)  # the first compound's first
        with_car = [r for r in candidates if services.booker_for(r.person).vehicle_ids]
        chosen = (with_car or candidates or [None])[0]
        if chosen is not None:
            BookerLink.objects.create(user=user, person=chosen.person)
