"""``manage.py volunteers_demo``: the Haitang pioneers (海棠先锋) of the demo street.

31 volunteers in six grid action branches (one per grid of the street's first grids, each 1 branch secretary + 1
grid worker + N volunteers), ten volunteer services (a weekly visit to the elderly living alone per branch, two
opinion collections, staffing a community activity, helping at a mediation), a season of shifts (ten weeks back,
two ahead) with sign-ups, check-in and check-out, most verified into the ledger and a few waiting for the
organiser, a substitute asked for, two opinions turned into cases, and points spent on a cleaning appointment where
the shared resources offer one. The youth league school's lecturer team (少年团校讲师团) teaches the sessions of the
summer class, each on a 授课讲师 shift linked to its session. Everything goes through ``volunteers.services``. The
``resident`` demo account is one of the volunteers (their phone pages). Idempotent: a second run creates nothing.
"""

from __future__ import annotations

import datetime as dt
import random
import time

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from volunteers import ledger, services
from volunteers.models import Reward, Signup, Team, Volunteer

BRANCH = "海棠先锋·{grid}行动支部"
SKILLS = ["visit", "opinion", "mediation", "events", "digital", "medical", "legal", "teaching", "repair"]
MEMBERS = [4, 3, 3, 3, 3, 3]  # N of each branch: 6 × (1 + 1) + 19 = 31
WEEKS_BACK, WEEKS_AHEAD = 10, 2


def _at(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hh, mm)))


class Command(BaseCommand):
    help = "志愿服务演示数据：海棠先锋31名志愿者、六个网格行动支部、一季的班次与核定时长"

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=31)

    def handle(self, *args, seed: int, **options):
        from places.models import Grid

        if Team.objects.filter(name__startswith="海棠先锋").exists():
            self.stdout.write("volunteers demo already present")
            return
        started = time.monotonic()
        rng = random.Random(f"volunteers:{seed}")
        grids = self.pick_grids(Grid)
        if not grids:
            raise CommandError("no grid with residents: run manage.py demo first")
        with transaction.atomic():
            branches = self.branches(grids, rng)
        tasks = self.services(branches)
        stats = self.season(tasks, rng)
        spent = self.spend(rng)
        opinions = self.opinions(tasks)
        taught = self.lecturers(rng)
        figures = ledger.balance_figures()
        self.stdout.write(
            f"volunteers demo: {Volunteer.objects.count()} volunteers in {len(branches)} branches, {len(tasks)} "
            f"services, {stats['shifts']} shifts, {stats['verified']} verified ({stats['waiting']} waiting), "
            f"{spent} points spent, {opinions} opinions, {taught} sessions taught by the lecturers; "
            f"ledger balance {figures['ledger_balance']} "
            f"in {time.monotonic() - started:.1f}s")

    # --- branches -------------------------------------------------------------------------------------------------
    def pick_grids(self, Grid) -> list:
        """Six grids of the street: the demo community's first (demo/accounts.py's officer), then the others."""
        from people.models import Person
        from resources.models import Resource

        with_people = set(Person._base_manager.filter(grid__isnull=False).values_list("grid_id", flat=True)
                          .distinct())
        # the community of the points' cleaning service first (the shared resources' demo), then the street's
        service = Resource._base_manager.filter(mode="daily", is_active=True).order_by("id").first()
        first = service.community_id if service is not None else None
        grids = [g for g in Grid._base_manager.select_related("community").order_by("community_id", "id")
                 if g.pk in with_people]
        grids.sort(key=lambda g: g.community_id != first)
        return grids[:6]

    def branches(self, grids, rng) -> list[tuple[Team, list[Volunteer]]]:
        from people.models import Person
        from resources.models import BookerLink

        user = get_user_model().objects.filter(username="resident").first()
        linked = BookerLink.objects.filter(user=user).select_related("person").first() if user else None
        adult = dt.date.today().replace(year=dt.date.today().year - 18)
        out = []
        for i, grid in enumerate(grids):
            n = MEMBERS[i] if i < len(MEMBERS) else 3
            people = list(Person._base_manager.filter(grid=grid, birth_date__lte=adult, volunteer__isnull=True)
                          .order_by("id")[:200])
            rng.shuffle(people)
            people = people[:n + 2]
            if linked and linked.person.grid_id == grid.pk and linked.person not in people:
                people[-1] = linked.person
            if len(people) < 3:
                continue
            team = services.create_team(None, grid, BRANCH.format(grid=grid.name), motto="有事找先锋，邻里一家亲")
            vols = []
            for j, person in enumerate(people):
                mine = user is not None and (person == (linked.person if linked else None)
                                             or (linked is None and i == 0 and j == 2))
                days = "".join(sorted(rng.sample("1234567", 3)))
                v = services.register_volunteer(None, person, skills=rng.sample(SKILLS, 2), available_days=days,
                                                user=user if mine else None,
                                                joined_on=dt.date(2023 + rng.randint(0, 2), rng.randint(1, 12), 1))
                role = "secretary" if j == 0 else "grid_worker" if j == 1 else "member"
                services.add_member(None, team, v, role)
                vols.append(v)
            out.append((team, vols))
        if user is not None and not Volunteer.objects.filter(user=user).exists() and out:
            v = out[0][1][-1]
            Volunteer.objects.filter(pk=v.pk).update(user=user)
        return out

    # --- ten services -----------------------------------------------------------------------------------------------
    def services(self, branches) -> list[dict]:
        from mediation.models import Mediation

        tasks = []
        for team, vols in branches:
            grid = team.grid
            task = services.create_task(None, grid=grid, team=team, kind="elderly_visit", title="探访独居老人",
                                        location=f"{grid.name}独居老人家中", points_per_hour=10)
            tasks.append({"task": task, "vols": vols, "weekday": 5, "hours": (9, 11), "every": 1})
        for team, vols in branches[:2]:
            task = services.create_task(None, grid=team.grid, team=team, kind="opinion", title="楼道议事·收集民意",
                                        location=f"{team.grid.name}小区议事角", points_per_hour=12)
            tasks.append({"task": task, "vols": vols, "weekday": 2, "hours": (19, 21), "every": 2})
        if branches:
            team, vols = branches[0]
            task = services.create_task(None, grid=team.grid, team=team, kind="activity", title="社区活动现场保障",
                                        location="党群服务中心", points_per_hour=10)
            tasks.append({"task": task, "vols": vols, "weekday": 6, "hours": (14, 17), "every": 3,
                          "session": self.session_for(team)})
        grid_ids = [t.grid_id for t, _v in branches]
        med = Mediation._base_manager.filter(grid_id__in=grid_ids).order_by("id").first()
        if med is not None:
            team, vols = next((t, v) for t, v in branches if t.grid_id == med.grid_id)
        elif branches:
            team, vols = branches[-1]
        if branches:
            task = services.create_task(None, grid=team.grid, team=team, kind="mediation", title="协助邻里纠纷调解",
                                        location="社区人民调解室", points_per_hour=15, mediation=med)
            tasks.append({"task": task, "vols": vols, "weekday": 3, "hours": (15, 17), "every": 4})
        return tasks

    def session_for(self, team):
        try:
            from activities.models import Session
        except ImportError:
            return None
        return Session._base_manager.filter(activity__community_id=team.community_id).order_by("starts_at").first()

    # --- the youth league school's lecturers ------------------------------------------------------------------------
    def lecturers(self, rng) -> int:
        """少年团校讲师团: up to four lecturers of the summer class's community, each session of the class taught by
        one of them on a 授课讲师 shift linked to the session (checked in, out and verified where it is over)."""
        try:
            from activities.management.commands.activities_demo import SUMMER
            from activities.models import Activity
        except ImportError:
            return 0
        from people.models import Person

        summer = Activity._base_manager.filter(title=SUMMER).select_related("grid").first()
        if summer is None or summer.grid is None:
            return 0
        adult = dt.date.today().replace(year=dt.date.today().year - 25)
        # adults of the class's community not yet volunteering first, then its volunteers (a pioneer may teach too)
        people = list(Person._base_manager.filter(community_id=summer.grid.community_id, birth_date__lte=adult)
                      .order_by("id")[:200])
        rng.shuffle(people)
        known = {v.person_id: v for v in Volunteer.objects.filter(person__in=people)}
        people.sort(key=lambda p: p.pk in known)
        if not people:
            return 0
        team = services.create_team(None, summer.grid, "少年团校讲师团", kind="lecturers", motto="立德树人，服务少年")
        lecturers = []
        for person in people[:4]:
            v = known.get(person.pk) or services.register_volunteer(
                None, person, skills=["teaching", rng.choice(["digital", "legal"])], available_days="135")
            services.add_member(None, team, v)
            lecturers.append(v)
        task = services.create_task(None, grid=summer.grid, team=team, kind="lecture", title=f"{SUMMER}授课",
                                    location="各社区党群服务中心活动室", points_per_hour=15)
        now = timezone.now()
        taught = 0
        for i, session in enumerate(summer.sessions.order_by("starts_at")):
            shift = services.add_shifts(None, task, session.starts_at, session.ends_at, capacity=1,
                                        session=session)[0]
            try:
                s = services.sign_up(lecturers[i % len(lecturers)], shift,
                                     now=session.starts_at - dt.timedelta(days=5))
            except ValidationError:
                continue
            taught += 1
            if session.ends_at + services.CHECKOUT_LATE > now:
                continue
            services.check_in(s, now=session.starts_at - dt.timedelta(minutes=10))
            services.check_out(s, now=session.ends_at)
            services.verify(None, s, now=session.ends_at + dt.timedelta(hours=3))
        return taught

    # --- a season of shifts ------------------------------------------------------------------------------------------
    def season(self, tasks, rng) -> dict:
        today = timezone.localdate()
        monday = today - dt.timedelta(days=today.weekday())
        first = monday - dt.timedelta(weeks=WEEKS_BACK)
        now = timezone.now()
        stats = {"shifts": 0, "verified": 0, "waiting": 0}
        for t in tasks:
            day = first + dt.timedelta(days=t["weekday"])
            a, b = t["hours"]
            until = monday + dt.timedelta(weeks=WEEKS_AHEAD, days=6)
            shifts = services.add_shifts(None, t["task"], _at(day, a), _at(day, b), capacity=3,
                                         weekly_until=until)
            shifts = shifts[::t["every"]]
            stats["shifts"] += len(shifts)
            if t.get("session") is not None:
                type(shifts[0]).objects.filter(pk=shifts[-1].pk).update(session=t["session"])
            organiser = None
            for sh in shifts:
                people = rng.sample(t["vols"], min(len(t["vols"]), rng.choice([2, 2, 3])))
                for v in people:
                    try:
                        s = services.sign_up(v, sh, now=sh.starts_at - dt.timedelta(days=3))
                    except ValidationError:
                        continue  # the same person on another shift at that time
                    if sh.ends_at + services.CHECKOUT_LATE > now:
                        continue  # ahead (or today): signed up only
                    late = rng.choice([0, 0, 5, 10, -10])
                    services.check_in(s, now=sh.starts_at + dt.timedelta(minutes=late))
                    services.check_out(s, now=sh.ends_at + dt.timedelta(minutes=rng.choice([0, 5, -15])))
                    if sh.starts_at > now - dt.timedelta(days=6) and rng.random() < 0.7:
                        stats["waiting"] += 1  # last week's: the organiser has not verified them yet
                        continue
                    services.verify(organiser, s, now=sh.ends_at + dt.timedelta(hours=rng.randint(2, 30)))
                    stats["verified"] += 1
            ahead = [sh for sh in shifts if sh.starts_at > now + dt.timedelta(days=2)]
            mine = Signup.objects.filter(shift__in=ahead, state="signed").order_by("id").first()
            if mine is not None and not Signup.objects.filter(wants_substitute=True).exists():
                services.ask_substitute(mine)
        return stats

    # --- points spent, opinions ------------------------------------------------------------------------------------
    def spend(self, rng) -> int:
        from resources.models import Resource

        spent = 0
        streets = set(Volunteer.objects.values_list("street_id", flat=True))
        for cleaning in Resource._base_manager.filter(mode="daily", is_active=True, street_id__in=streets)[:2]:
            reward = Reward(name=f"{cleaning.name}（积分兑换）", resource=cleaning, points=30)
            reward.grid_id, reward.community_id, reward.street_id = (cleaning.grid_id, cleaning.community_id,
                                                                     cleaning.street_id)
            reward.save()
            # the richest volunteers the service is for (its rule may name compounds): three appointments
            rich = sorted(Volunteer.objects.filter(street_id=cleaning.street_id),
                          key=lambda v: -ledger.balances(v)["points"])
            day = timezone.localdate() + dt.timedelta(days=3)
            done = 0
            for v in rich:
                if done == 3:
                    break
                for k in range(7):
                    try:
                        services.spend(v, reward, day + dt.timedelta(days=k), user=v.user)
                    except ValidationError:
                        continue  # a closed day, or not for this volunteer (the service's rule)
                    spent += reward.points
                    done += 1
                    break
        return spent

    def opinions(self, tasks) -> int:
        from cases.models import CaseCategory

        cat = CaseCategory.objects.filter(is_active=True, parent__isnull=False).order_by("id").first()
        if cat is None:
            return 0
        texts = ["3幢楼道堆放杂物，居民担心消防通道被堵", "小区健身器材损坏，老人锻炼不方便"]
        done = 0
        for t in tasks:
            if t["task"].kind != "opinion":
                continue
            s = (Signup.objects.filter(shift__task=t["task"], checked_in_at__isnull=False, state="signed")
                 .order_by("-shift__starts_at").first())
            if s is None or done >= len(texts):
                continue
            services.collect_opinion(s, texts[done], category=cat)
            done += 1
        return done
