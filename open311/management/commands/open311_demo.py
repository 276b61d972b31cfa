"""``manage.py open311_demo``: an API key for a demo client (printed once, when created) and a few requests
submitted as an Open311 client would. Idempotent: a second run creates nothing."""

from __future__ import annotations

import secrets

from django.core.management.base import BaseCommand
from django.db import transaction

from cases.models import Case
from cases.services import report
from open311.admin_views import create_key
from open311.models import APIKey, RequestToken
from places.models import Compound

REQUESTS = [("sanitation-rubbish", "小区东门垃圾桶满溢，三天没有清运"),
            ("parking-illegal", "消防通道被私家车长期占用"),
            ("property-repair", "单元门禁损坏，陌生人可随意进出")]


class Command(BaseCommand):
    help = "Open311 演示密钥与请求 / demo Open311 key and requests"

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, seed: int, **options):
        key = APIKey.objects.filter(name="演示客户端").first()
        if key is None:
            key, raw = create_key(None, name="演示客户端", contact="demo")
            self.stdout.write(f"Open311 api_key (shown once): {raw}")
        if Case._base_manager.filter(channel="open311").exists():
            self.stdout.write("open311 demo requests already present")
            return
        comps = list(Compound._base_manager.filter(lat__isnull=False).order_by("id")[:len(REQUESTS)])
        with transaction.atomic():
            for (code, text), comp in zip(REQUESTS, comps, strict=False):
                case = report(None, channel="open311", category=code, title=text[:40], description=text,
                              place=comp, lat=comp.lat, lng=comp.lng, address=comp.name, service_code=code)
                RequestToken.objects.create(token=secrets.token_hex(16), case=case, api_key=key)
        self.stdout.write(f"open311 demo requests: {len(comps)}")
