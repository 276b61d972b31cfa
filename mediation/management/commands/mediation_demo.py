"""``manage.py mediation_demo [--seed 7] [--count 12]``: mediation records for neighbour-dispute cases of the demo
(run after ``cases_demo``). Idempotent (cases that have a mediation are left alone), deterministic with --seed."""

from __future__ import annotations

import datetime as dt
import random

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from cases.models import Case
from mediation import services
from mediation.models import Mediation, Outcome

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["建国", "秀英", "志强", "丽华", "海燕", "国庆", "桂兰", "明", "静", "伟", "芳", "军"]
VOLUNTEERS = ["陈阿姨（志愿者）", "老周（退休法官）", "刘老师（志愿者）"]
PLACES = ["社区调解室", "网格工作站", "小区党群服务站"]
TERMS = {
    "neighbour-leak": ["楼上住户于两周内请专业人员修复卫生间防水", "楼上住户承担楼下天花板修补费用人民币1200元"],
    "neighbour-noise": ["装修施工限于工作日8:00-12:00、14:00-18:00", "双方互留联系方式，有问题先沟通"],
    "neighbour-space": ["三日内清理楼道堆放物品", "今后公共部位不再堆放杂物"],
}


class Command(BaseCommand):
    help = "为演示案件生成调解记录 / demo mediation records"

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--count", type=int, default=12)

    def handle(self, *args, seed: int, count: int, **options):
        rng = random.Random(seed)
        cases = list(Case._base_manager.filter(category__code__startswith="neighbour", mediation__isnull=True)
                     .select_related("category").order_by("id")[:count * 3])
        rng.shuffle(cases)
        lead = get_user_model().objects.filter(username="community").first()
        made = 0
        for case in sorted(cases[:max(0, count - Mediation.objects.count())], key=lambda c: c.pk):
            with transaction.atomic():
                names = [rng.choice(SURNAMES) + rng.choice(GIVEN) for _ in range(2)]
                parties = [services.PartyData(name=names[0], role="applicant", house=None),
                           services.PartyData(name=names[1], role="respondent")] if not case.parties.exists() else ()
                m = services.open_mediation(None, case, parties=parties, lead_mediator=lead)
                services.add_mediator(None, m, name=rng.choice(VOLUNTEERS), is_volunteer=True)
                for k in range(rng.randint(1, 3)):
                    services.record_session(None, m, held_at=timezone.now() - dt.timedelta(days=10 - 3 * k, hours=2),
                                            place=rng.choice(PLACES), attendees="、".join(names),
                                            notes=rng.choice(["双方陈述事实，情绪较激动，约定下次再谈",
                                                              "调解员释法明理，双方各退一步",
                                                              "现场查看后，双方就处理方案初步达成一致"]))
                roll = rng.random()
                if roll < 0.5:
                    terms = TERMS.get(case.category.code, TERMS["neighbour-space"])
                    services.close(None, m, outcome=Outcome.AGREED, terms="\n".join(terms),
                                   performance="按约定时限履行")
                elif roll < 0.65:
                    services.close(None, m, outcome=Outcome.PARTLY, terms=TERMS["neighbour-noise"][1])
                elif roll < 0.75:
                    services.close(None, m, outcome=Outcome.REFERRED, referred_to="街道司法所")
                made += 1
        self.stdout.write(f"mediations created: {made} (total {Mediation.objects.count()})")
