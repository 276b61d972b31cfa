"""``manage.py fieldwork_demo [--seed N] [--weeks W]``: visits of the demo grid workers over the last weeks and a few
change requests waiting for the community officer, on top of ``manage.py demo``.

Idempotent (the visits carry client ids derived from the seed: a second run finds them and does nothing) and
deterministic with ``--seed``. The history is bulk-inserted (seconds at scale 1); the pending change requests go
through ``fieldwork.services.create_change_request`` like any other, and the visited homes are stamped verified
through ``quality.services.stamp_verified`` at the time of their visit.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import defaultdict

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from core.models import Grant
from fieldwork import services
from fieldwork.models import ChangeKind, ChangeRequest, ChangeSource, ChangeStatus, Visit, VisitOutcome
from people.models import Residence
from places.models import House

NAMESPACE = uuid.UUID("5b0d2f0e-2a7c-4c55-9a53-6d2f4f1c7a11")
NOTES = ["住户在家，信息无变化", "与户主核对了家庭成员", "房东在场，确认租户信息", "老人独居，身体状况良好",
         "敲门无人应答，已留联系卡", "", "", ""]


def client_id(seed: int, worker: str, n: int) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{seed}:{worker}:{n}")


class Command(BaseCommand):
    help = "为演示网格员生成走访记录和待审核的变更 / demo visits and pending change requests"

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=11)
        parser.add_argument("--weeks", type=int, default=4, help="how many past weeks of visits")
        parser.add_argument("--per-day", type=int, default=8, help="visits per worker per working day")

    def handle(self, *args, seed: int, weeks: int, per_day: int, **options):
        User = get_user_model()
        workers = list(User.objects.filter(username__in=["grid1", "grid2"]).order_by("username"))
        if not workers:
            raise CommandError("没有演示网格员：请先运行 manage.py demo / no demo grid workers: run "
                               "manage.py demo first")
        if Visit.objects.filter(client_id=client_id(seed, workers[0].username, 0)).exists():
            self.stdout.write("演示走访记录已存在 / demo visits already there")
            return
        rng = random.Random(seed)
        now = timezone.now()
        today = timezone.localdate()
        stamps: dict[dt.date, list[int]] = defaultdict(list)
        visits, total = [], 0
        with transaction.atomic():
            for worker in workers:
                grid_id = Grant.objects.filter(user=worker, level="grid").values_list("grid_id", flat=True).first()
                houses = list(House.objects.filter(grid_id=grid_id).order_by("building_id", "unit", "floor", "room")
                              .values_list("id", "street_id", "community_id", "grid_id"))
                if not houses:
                    continue
                n = 0
                for back in range(weeks * 7, 0, -1):
                    day = today - dt.timedelta(days=back)
                    if day.weekday() >= 5:
                        continue
                    start = rng.randrange(0, max(1, len(houses) - per_day))
                    for k, (hid, street_id, community_id, g) in enumerate(houses[start:start + per_day]):
                        at = timezone.make_aware(dt.datetime.combine(day, dt.time(9, 0))) + dt.timedelta(
                            minutes=25 * k + rng.randrange(0, 20))
                        not_home = rng.random() < 0.12
                        visits.append(Visit(house_id=hid, worker=worker, visited_at=at,
                                            client_id=client_id(seed, worker.username, n),
                                            note="敲门无人应答，已留联系卡" if not_home else rng.choice(NOTES),
                                            outcome=VisitOutcome.NOT_HOME if not_home else VisitOutcome.UNCHANGED,
                                            street_id=street_id, community_id=community_id, grid_id=g))
                        if not not_home:
                            stamps[day].append(hid)
                        n += 1
                total += n
            Visit.objects.bulk_create(visits, batch_size=500)
            saved = Visit.objects.filter(client_id__in=[v.client_id for v in visits]).values_list(
                "id", "house_id", "visited_at", "outcome", "worker_id", "street_id", "community_id", "grid_id")
            ChangeRequest.objects.bulk_create([
                ChangeRequest(visit_id=vid, house_id=hid, kind=ChangeKind.UNCHANGED, source=ChangeSource.VISIT,
                              status=ChangeStatus.APPLIED, applied_at=at, submitted_by_id=wid, street_id=s,
                              community_id=c, grid_id=g) for vid, hid, at, outcome, wid, s, c, g in saved
                if outcome == VisitOutcome.UNCHANGED], batch_size=500)
            self.stamp(stamps)
            pending = self.pending(workers[0], rng, now)
        self.stdout.write(f"演示走访 {total} 次，待审核变更 {pending} 条 / {total} demo visits, "
                          f"{pending} pending changes")

    def stamp(self, stamps: dict[dt.date, list[int]]) -> None:
        try:
            from quality.services import stamp_verified
        except ImportError:
            return
        for day in sorted(stamps):
            at = timezone.make_aware(dt.datetime.combine(day, dt.time(17, 0)))
            stamp_verified(None, "visit", house_ids=stamps[day], at=at)

    def pending(self, worker, rng: random.Random, now) -> int:
        """A handful of change requests for the community officer: from a visit and from residents' feedback."""
        grid_id = Grant.objects.filter(user=worker, level="grid").values_list("grid_id", flat=True).first()
        residences = list(Residence.objects.filter(house__grid_id=grid_id, moved_out__isnull=True)
                          .select_related("house", "person").order_by("house_id", "id")[:400])
        if len(residences) < 6:
            return 0
        picks = rng.sample(residences, 6)
        made = []
        for kind, res, payload, source, contact in [
            (ChangeKind.NEW_PERSON, picks[0], {"name": "林新月", "relation": "child", "role": "family",
                                               "residency_type": "registered", "birth_date": "2019-06-01"},
             ChangeSource.VISIT, None),
            (ChangeKind.CHANGE_USE, picks[1], {"use": "rented" if picks[1].house.use != "rented" else "owner"},
             ChangeSource.VISIT, None),
            (ChangeKind.MOVE_OUT, picks[2], {"reason": "已搬至外地"}, ChangeSource.FEEDBACK,
             {"name": "邻居", "phone": "13952000001"}),
            (ChangeKind.CORRECTION, picks[3], {"text": "户籍地址写错了小区名称"}, ChangeSource.FEEDBACK,
             {"name": picks[3].person.name, "phone": "13952000002"}),
            (ChangeKind.PHONE_FIX, picks[4], {"phone": "13952000003"}, ChangeSource.FEEDBACK,
             {"phone": "13952000003"}),
        ]:
            person = res.person if kind in (ChangeKind.MOVE_OUT, ChangeKind.CORRECTION, ChangeKind.PHONE_FIX) else None
            try:
                made.append(services.create_change_request(
                    house=res.house, kind=kind, payload=payload, source=source, contact=contact, person=person,
                    submitted_by=worker if source == ChangeSource.VISIT else None))
            except Exception as exc:  # noqa: BLE001  (one odd demo household must not stop the others)
                self.stderr.write(f"skipped {kind}: {exc}")
        if made:  # one of them has waited more than three days: the officers' reminder and the overdue badge
            ChangeRequest.objects.filter(pk=made[0].pk).update(created_at=now - dt.timedelta(days=4))
        return len(made)
