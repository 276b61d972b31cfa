"""``manage.py demo_otp USER``: the current second-factor code of a demo account (demo only)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from demo.accounts import current_demo_otp


class Command(BaseCommand):
    help = "打印演示账号当前的第二步验证码（仅限演示账号）/ print a demo account's current TOTP code"

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")

    def handle(self, *args, username: str, **options) -> None:
        try:
            self.stdout.write(current_demo_otp(username))
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
