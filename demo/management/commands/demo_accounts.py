"""``manage.py demo_accounts``: the demo logins, one per role, on real places of the demo street."""

from __future__ import annotations

import os
import unicodedata

from django.core.management.base import BaseCommand, CommandError

from demo.accounts import DEMO_PASSWORD, EXTRA_DEMO_ACCOUNTS, ensure_demo_accounts
from demo.generator import STREET_NAME
from places.models import Street


def _pad(text: str, width: int) -> str:
    """Left-align ``text`` in ``width`` terminal columns (Chinese characters take two)."""
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(width - used, 1)


class Command(BaseCommand):
    help = "创建演示账号（每个角色一个）并打印登录信息"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url", default=os.environ.get("RENFANG_DEMO_URL", "http://127.0.0.1:8000/"),
                            help="打印的访问地址 / the address to print")

    def handle(self, *args, url: str, **options) -> None:
        street = Street.objects.filter(name=STREET_NAME).first()
        if street is None:
            raise CommandError(f"没有找到演示街道「{STREET_NAME}」，请先运行 manage.py demo / run manage.py demo first")
        rows = ensure_demo_accounts(street)
        w = self.stdout.write
        w("")
        w(f"  地址 / address: {url}")
        w("")
        w("  " + _pad("用户名 username", 18) + _pad("密码 password", 22) + _pad("角色 role", 38) + "地点 place")
        w("  " + "-" * 96)
        for r in rows:
            password = DEMO_PASSWORD if r["demo_password"] else "（已修改 / changed）"
            role = f"{r['role_zh']} / {r['role_en']}"
            w("  " + _pad(r["username"], 18) + _pad(password, 22) + _pad(role, 38) + r["place"])
        from django.contrib.auth import get_user_model

        for user in get_user_model().objects.filter(username__in=EXTRA_DEMO_ACCOUNTS).order_by("username"):
            zh, en = EXTRA_DEMO_ACCOUNTS[user.username]
            password = DEMO_PASSWORD if user.check_password(DEMO_PASSWORD) else "（已修改 / changed）"
            w("  " + _pad(user.username, 18) + _pad(password, 22) + _pad(f"{zh} / {en}", 38) + "案件 cases")
        w("")
        otp_users = [r["username"] for r in rows if r.get("otp")]
        if otp_users:
            w("  " + "、".join(otp_users) + " 登录后需要第二步验证码（TOTP）。演示时用下面的命令取得当前验证码 /")
            w("  these accounts need a second factor (TOTP) after the password; for the demo, get the code with:")
            w(f"      .venv/bin/python manage.py demo_otp {otp_users[0]}")
            w("")
        w("  演示账号仅供本机试用；上线前必须修改或停用。/ Demo accounts are for trying Renfang locally: "
          "change or disable them before going live.")
