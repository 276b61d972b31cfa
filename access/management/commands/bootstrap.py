"""``manage.py bootstrap``: the first street and its administrators on a new deployment.

A fresh production database has no place and no user, and every grant names a place: this command creates the
street (by its 12-digit administrative code and name, through places.services like any other place), the default
roles, and the first administrator accounts with their grants on that street — by default one system
administrator (users and configuration) and one security administrator (roles and grants), as separate people.
Passwords are read from files (``--password-file``, one per account, or RENFANG_BOOTSTRAP_PASSWORD_FILE) or typed
at the prompt; they pass the same validators as every password. Both roles must enrol a second factor at their
first login. Running it again changes nothing that exists (it says so).
"""

from __future__ import annotations

import getpass
from pathlib import Path

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core import audit


class Command(BaseCommand):
    help = "新部署：创建首个街道及其系统管理员、安全管理员 / a new deployment's first street and administrators"

    def add_arguments(self, parser):
        parser.add_argument("--street-code", required=True, help="街道行政区划代码（9或12位），如 320507001")
        parser.add_argument("--street-name", required=True, help="街道名称，如 元和街道")
        parser.add_argument("--admin", action="append", default=[], metavar="USERNAME:ROLE",
                            help="账号与角色，可重复；默认 sysadmin:system_admin 与 secadmin:security_admin")
        parser.add_argument("--password-file", action="append", default=[],
                            help="密码文件（每个账号一个，按 --admin 的顺序）；不给则提示输入")

    def handle(self, *args, street_code: str, street_name: str, admin: list[str], password_file: list[str],
               **options):
        from core.models import Grant, Role
        from core.roles import DEFAULT_ROLES, ensure_default_roles
        from places.models import Street
        from places.services import save_street

        accounts = [a.split(":", 1) for a in (admin or ["sysadmin:system_admin", "secadmin:security_admin"])]
        for pair in accounts:
            if len(pair) != 2 or pair[1] not in DEFAULT_ROLES:
                raise CommandError(f"--admin 应为 账号:角色，角色为 {', '.join(DEFAULT_ROLES)} 之一：{':'.join(pair)}")
        if password_file and len(password_file) != len(accounts):
            raise CommandError("--password-file 的个数应与账号个数相同")
        User = get_user_model()
        passwords = []
        for i, (username, _role) in enumerate(accounts):
            if User.objects.filter(username=username).exists():
                passwords.append(None)
                continue
            if password_file:
                pw = Path(password_file[i]).read_text(encoding="utf-8").strip()
            else:
                pw = getpass.getpass(f"{username} 的密码 / password: ")
            try:
                password_validation.validate_password(pw, User(username=username))
            except ValidationError as exc:
                raise CommandError(f"{username}：{'；'.join(exc.messages)}") from exc
            passwords.append(pw)
        with transaction.atomic():
            roles = ensure_default_roles()
            street = Street.objects.filter(code=street_code).first()
            if street is None:
                try:
                    street = save_street(None, {"name": street_name, "code": street_code}, source="bootstrap")
                except ValidationError as exc:
                    raise CommandError("；".join(f"{k}: {'，'.join(v)}" for k, v in exc.message_dict.items())) from exc
                self.stdout.write(f"街道已创建 / street created: {street.name} ({street.code})")
            else:
                self.stdout.write(f"街道已存在，未改动 / street exists: {street.name} ({street.code})")
            for (username, role_code), pw in zip(accounts, passwords, strict=True):
                if pw is None:
                    self.stdout.write(f"账号已存在，未改动 / user exists: {username}")
                    continue
                user = User.objects.create_user(username=username, password=pw)
                role = roles.get(role_code) or Role.objects.get(code=role_code)
                Grant.objects.create(user=user, role=role, level="street", street_id=street.pk)
                audit.record("create", user=None, object_type="auth.user", object_id=str(user.pk),
                             changes={"role": role_code, "street": street.pk}, purpose="bootstrap")
                self.stdout.write(f"账号已创建 / user created: {username} ({role_code})，首次登录需绑定第二步验证")
