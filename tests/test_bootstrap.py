"""A new deployment starts from nothing: ``manage.py bootstrap`` makes its first street and administrators."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from core.models import Grant
from core.scope import scope_for
from places.models import Street

pytestmark = pytest.mark.django_db
STRONG = "Yuanhe-Street-2026!"


def _pw(tmp_path, name: str, value: str = STRONG) -> str:
    p = tmp_path / name
    p.write_text(value + "\n", encoding="utf-8")
    return str(p)


def test_bootstrap_creates_the_street_and_two_separate_administrators_then_changes_nothing(tmp_path):
    out = io.StringIO()
    args = ["--street-code", "320507001", "--street-name", "元和街道",
            "--password-file", _pw(tmp_path, "a"), "--password-file", _pw(tmp_path, "b")]
    call_command("bootstrap", *args, stdout=out)
    street = Street.objects.get(code="320507001")
    assert street.name == "元和街道"
    users = {u.username: u for u in get_user_model().objects.all()}
    assert set(users) == {"sysadmin", "secadmin"}
    assert users["sysadmin"].check_password(STRONG)
    assert {g.role.code for g in Grant.objects.filter(user=users["sysadmin"])} == {"system_admin"}
    assert {g.role.code for g in Grant.objects.filter(user=users["secadmin"])} == {"security_admin"}
    assert scope_for(users["sysadmin"]).has("auth.add_user")
    assert not scope_for(users["secadmin"]).has("auth.add_user")
    assert not scope_for(users["sysadmin"]).has("people.view_person"), "an administrator sees no resident"
    again = io.StringIO()
    call_command("bootstrap", *args, stdout=again)
    assert "已存在" in again.getvalue() and Street.objects.count() == 1 and Grant.objects.count() == 2


def test_bootstrap_refuses_a_weak_password_and_an_unknown_role_and_writes_nothing(tmp_path):
    with pytest.raises(CommandError, match="admin"):
        call_command("bootstrap", "--street-code", "320507001", "--street-name", "元和街道",
                     "--admin", "admin:superuser", "--password-file", _pw(tmp_path, "a"))
    with pytest.raises(CommandError):
        call_command("bootstrap", "--street-code", "320507001", "--street-name", "元和街道",
                     "--admin", "admin:system_admin", "--password-file", _pw(tmp_path, "w", "12345678"))
    assert not Street.objects.exists() and not get_user_model().objects.exists()
