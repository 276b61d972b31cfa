"""Demo cases for the demo sub-district: handling units with members, and cases of the last months in every
status, with their timelines (``manage.py cases_demo [--seed 7] [--count N] [--reset]``).

Idempotent: a second run without ``--reset`` changes nothing. Deterministic with ``--seed``. Rows are written with
``bulk_create`` (a few seconds at scale 1); intake through ``cases.services.report`` is what the tests exercise.
"""

from __future__ import annotations

import datetime as dt
import random

from django.contrib.auth import get_user_model, password_validation
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from cases import deadlines, services
from cases.models import (
    Case,
    CaseCategory,
    CaseEvent,
    Channel,
    Escalation,
    NumberCounter,
    Priority,
    Satisfaction,
    Status,
    Unit,
    UnitKind,
)
from places.models import Community, Compound, House, Street

TITLES = {
    "neighbour-noise": ["楼上夜间噪音扰民", "邻居装修超时施工", "广场舞音响声音过大"],
    "neighbour-leak": ["楼上卫生间漏水到我家", "外墙渗水影响邻居", "空调冷凝水滴落"],
    "neighbour-space": ["楼道堆放杂物", "邻居占用公共绿地种菜", "私搭乱建占用通道"],
    "property-repair": ["楼道灯不亮", "单元门禁损坏", "小区路面塌陷", "雨水井盖缺失"],
    "property-lift": ["电梯经常停运", "电梯异响", "电梯困人"],
    "property-fee": ["物业费收费不透明", "停车费标准有异议"],
    "parking-illegal": ["消防通道违停", "小区门口车辆乱停", "僵尸车长期占用车位"],
    "parking-ebike": ["电动车楼道充电", "充电桩数量不足", "飞线充电"],
    "sanitation-rubbish": ["垃圾桶满溢无人清运", "建筑垃圾乱堆", "绿化带垃圾"],
    "sanitation-sorting": ["垃圾分类投放点异味", "分类垃圾混装清运"],
    "sanitation-pests": ["老鼠出没", "蚊虫较多请求消杀"],
    "safety-fire": ["消防通道被堵", "灭火器过期", "楼道堆放易燃物"],
    "safety-structure": ["阳台墙皮脱落", "外墙空调架锈蚀"],
    "safety-gas": ["楼道有燃气味", "餐饮店燃气管道老化"],
    "elderly-care": ["独居老人需要上门探访", "申请居家养老服务"],
    "elderly-meal": ["助餐点开放时间咨询", "助餐配送不及时"],
    "enterprise-policy": ["企业咨询稳岗补贴", "小微企业租金减免咨询"],
    "enterprise-environment": ["园区道路照明不足", "企业周边占道经营"],
    "suggestion": ["建议增设休闲座椅", "建议延长社区服务中心开放时间", "建议增加儿童游乐设施"],
}
NAMES = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"]
# status, share
MIX = [(Status.CLOSED, 0.52), (Status.REJECTED, 0.05), (Status.VERIFIED, 0.04), (Status.HANDLED, 0.05),
       (Status.IN_PROGRESS, 0.11), (Status.DISPATCHED, 0.11), (Status.ACCEPTED, 0.05), (Status.REPORTED, 0.07)]
PATH = [Status.REPORTED, Status.ACCEPTED, Status.DISPATCHED, Status.IN_PROGRESS, Status.HANDLED, Status.VERIFIED,
        Status.CLOSED]
ACTION_OF = {Status.ACCEPTED: "accept", Status.DISPATCHED: "dispatch", Status.IN_PROGRESS: "start",
             Status.HANDLED: "handle", Status.VERIFIED: "verify", Status.CLOSED: "close", Status.REJECTED: "reject"}
DEMO_UNITS = [("城管中队", UnitKind.DEPARTMENT), ("市场监管所", UnitKind.DEPARTMENT), ("住建办", UnitKind.DEPARTMENT),
              ("派出所", UnitKind.DEPARTMENT), ("社会事务办", UnitKind.DEPARTMENT)]
DEFAULT_UNIT = {"parking": "城管中队", "sanitation": "城管中队", "safety": "住建办", "elderly": "社会事务办",
                "enterprise": "市场监管所"}
UNIT_ACCOUNTS = [("unit1", 0), ("unit2", "城管中队")]  # a property company, a department


class Command(BaseCommand):
    help = "为演示街道生成处置单位和案件 / demo handling units and cases"

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--count", type=int, default=0, help="cases to generate (default: 4 per compound)")
        parser.add_argument("--months", type=int, default=6)
        parser.add_argument("--reset", action="store_true", help="delete the demo cases first")

    def handle(self, *args, seed: int, count: int, months: int, reset: bool, **options):
        street = Street.objects.order_by("id").first()
        if street is None:
            self.stderr.write("no street: run manage.py demo first")
            return
        rng = random.Random(seed)
        units = self.units(street)
        self.accounts(units)
        demo = Case._base_manager.filter(external_id__startswith="demo-")
        if demo.exists() and not reset:
            self.stdout.write("演示案件已存在 / demo cases already there (--reset regenerates them)")
            return
        if reset:
            with transaction.atomic():
                demo.delete()
        comps = list(Compound._base_manager.filter(street=street).order_by("id").values(
            "pk", "grid_id", "community_id", "street_id", "lat", "lng", "name"))
        if not comps:
            self.stderr.write("no compounds: run manage.py demo first")
            return
        n = count or 4 * len(comps)
        made = self.generate(rng, n, comps, units, months)
        self.stdout.write(f"{made} demo cases, {len(units)} units")

    # --- units and their accounts ---------------------------------------------------------------------------
    def units(self, street) -> list[Unit]:
        out = []
        for name, kind in DEMO_UNITS:
            out.append(Unit.objects.get_or_create(name=name, defaults={"kind": kind, "street_id": street.pk})[0])
        for community in Community.objects.filter(street=street).order_by("id"):
            out.append(Unit.objects.get_or_create(name=f"{community.name}居委会", defaults={
                "kind": UnitKind.COMMUNITY, "street_id": street.pk, "community_id": community.pk})[0])
        companies = (Compound._base_manager.filter(street=street).exclude(property_company="")
                     .values_list("property_company", flat=True).distinct().order_by("property_company")[:8])
        for name in list(companies) or ["安居物业", "华润物业"]:
            out.append(Unit.objects.get_or_create(name=name, defaults={"kind": UnitKind.PROPERTY,
                                                                      "street_id": street.pk})[0])
        by_name = {u.name: u for u in out}
        for cat in CaseCategory.objects.filter(parent__isnull=True):
            unit = by_name.get(DEFAULT_UNIT.get(cat.code, ""))
            if unit and cat.default_unit_id is None:
                CaseCategory.objects.filter(pk=cat.pk).update(default_unit=unit)
        return out

    def accounts(self, units: list[Unit]) -> None:
        from demo.accounts import DEMO_PASSWORD

        User = get_user_model()
        prop = [u for u in units if u.kind == UnitKind.PROPERTY]
        for username, which in UNIT_ACCOUNTS:
            unit = prop[which] if isinstance(which, int) and prop else next(u for u in units if u.name == which)
            user, created = User.objects.get_or_create(username=username)
            if created:
                password_validation.validate_password(DEMO_PASSWORD, user)
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            services.add_unit_member(None, unit, user)

    # --- cases ------------------------------------------------------------------------------------------------
    def generate(self, rng: random.Random, n: int, comps: list[dict], units: list[Unit], months: int) -> int:
        User = get_user_model()
        cats = list(CaseCategory.objects.filter(is_active=True, parent__isnull=False))
        cats += list(CaseCategory.objects.filter(code="suggestion"))
        staff = {u.username: u.pk for u in User.objects.filter(username__in=["grid1", "grid2", "community",
                                                                              "command", "unit1", "unit2"])}
        houses: dict[int, list] = {}
        for pk, comp_id, b_id in House._base_manager.filter(compound_id__in=[c["pk"] for c in comps]) \
                .values_list("pk", "compound_id", "building_id").order_by("id"):
            houses.setdefault(comp_id, []).append((pk, b_id))
        now = timezone.now()
        cal = deadlines.calendar()
        statuses = [s for s, _ in MIX]
        weights = [w for _, w in MIX]
        year = timezone.localtime(now).year
        start_no = NumberCounter.objects.filter(year=year).values_list("last", flat=True).first() or 0
        rows, paths = [], []
        for i in range(n):
            comp = rng.choice(comps)
            cat = rng.choice(cats)
            status = rng.choices(statuses, weights)[0]
            age = dt.timedelta(days=rng.uniform(0, 30 * months)) if status in (Status.CLOSED, Status.REJECTED) \
                else dt.timedelta(days=rng.uniform(0, 25) ** 1.3 / 3)
            created = now - age
            priority = Priority.URGENT if rng.random() < 0.12 else Priority.NORMAL
            hs = houses.get(comp["pk"]) or [(None, None)]
            house_id, building_id = rng.choice(hs) if rng.random() < 0.7 else (None, None)
            title = rng.choice(TITLES.get(cat.code, TITLES["suggestion"]))
            lat = (comp["lat"] or 31.3) + rng.uniform(-0.0008, 0.0008)
            lng = (comp["lng"] or 120.6) + rng.uniform(-0.0008, 0.0008)
            case = Case(number=f"RF-{year}-{start_no + i + 1:06d}", channel=rng.choices(
                [Channel.WORKER, Channel.HOTLINE, Channel.RESIDENT, Channel.WALK_IN, Channel.ENTERPRISE],
                [0.5, 0.2, 0.15, 0.1, 0.05])[0], category=cat, priority=priority, title=title,
                description=f"{comp['name']}：{title}，请尽快处理。", status=status, street_id=comp["street_id"],
                community_id=comp["community_id"], grid_id=comp["grid_id"], compound_id=comp["pk"],
                building_id=building_id, house_id=house_id, address=comp["name"], lat=lat, lng=lng,
                reported_by_id=staff.get("grid1" if i % 2 else "grid2"), external_id=f"demo-{i + 1}",
                deadline_at=deadlines.deadline_for(created, cat.days_for(priority), cal))
            if rng.random() < 0.6:
                case.set_reporter(rng.choice(NAMES) + rng.choice(["先生", "女士", "阿姨", "师傅"]),
                                  f"139{rng.randrange(10**8):08d}")
            idx = PATH.index(status) if status in PATH else 1
            if status != Status.REJECTED and idx >= 2:
                case.lead_unit = rng.choice(units)
            if idx >= 4:
                case.handled_at = created + (age * rng.uniform(0.3, 0.8))
                case.handler_id = staff.get("unit1")
            if status == Status.CLOSED:
                case.closed_at = created + age * rng.uniform(0.85, 0.98)
                case.satisfaction = rng.choices([Satisfaction.SATISFIED, Satisfaction.BASIC,
                                                 Satisfaction.DISSATISFIED, ""], [0.62, 0.18, 0.05, 0.15])[0]
            if status == Status.REJECTED:
                case.closed_at = created + dt.timedelta(hours=rng.uniform(1, 30))
                case.reject_reason = rng.choice(["重复反映", "不属于受理范围", "信息不全无法核实"])
            if status in (Status.ACCEPTED, Status.DISPATCHED, Status.IN_PROGRESS) and case.deadline_at < now:
                late = (now - case.deadline_at).days
                case.escalation_level = Escalation.STREET if late >= 4 else (
                    Escalation.COMMUNITY if late >= 1 else Escalation.GRID)
            case.version = idx + 1
            rows.append((case, created))
            paths.append(PATH[:idx + 1] if status != Status.REJECTED else [Status.REPORTED, Status.REJECTED])
        with transaction.atomic():
            for case, _created in rows:
                case.seal_numbers()  # bulk_create calls no save(): numbers in the texts sealed here (core.sealed)
            Case._base_manager.bulk_create([c for c, _ in rows], batch_size=1000)
            events = []
            for case, created in rows:
                case.created_at = created  # auto_now_add stamped "now"
            Case._base_manager.bulk_update([c for c, _ in rows], ["created_at"], batch_size=1000)
            for (case, created), path in zip(rows, paths, strict=True):
                end = case.closed_at or case.handled_at or now
                steps = len(path)
                for k, status in enumerate(path):
                    at = created + (end - created) * (k / max(steps - 1, 1)) if k else created
                    action = "report" if k == 0 else ACTION_OF[status]
                    note = case.reject_reason if status == Status.REJECTED else (
                        "已处置完毕" if status == Status.HANDLED else "")
                    data = {"lead_unit": case.lead_unit.name} if status == Status.DISPATCHED and case.lead_unit else {}
                    events.append((CaseEvent(case=case, action=action, from_status=path[k - 1] if k else "",
                                             to_status=status, note=note, data=data), at))
            for e, _at in events:
                e.seal_numbers()
            CaseEvent.objects.bulk_create([e for e, _ in events], batch_size=2000)
            # auto_now_add stamped the events "now": give them their moments on the timeline
            for e, at in events:
                e.at = at
            CaseEvent.objects.bulk_update([e for e, _ in events], ["at"], batch_size=2000)
            counter, _created = NumberCounter.objects.get_or_create(year=year)
            NumberCounter.objects.filter(year=year).update(last=max(counter.last, start_no + n))
        return n
