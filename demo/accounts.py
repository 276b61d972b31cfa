"""Demo accounts: one login per role, on real places of the demo street.

``DEMO_USERNAMES`` and ``demo_passwords_remain()`` let the production checks refuse to run while any demo
account can still log in with the published demo password.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model, password_validation
from django.db import transaction
from django.db.models import Count

__all__ = ["DEMO_ACCOUNTS", "DEMO_PASSWORD", "DEMO_USERNAMES", "EXTRA_DEMO_ACCOUNTS", "DemoAccount",
           "demo_passwords_remain", "current_demo_otp", "ensure_demo_accounts", "ensure_demo_otp"]

DEMO_PASSWORD = "Renfang-Demo-2026!"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    level: str  # street / community / grid / self
    label_zh: str
    label_en: str
    which: int = 0  # grid workers: the first grid of the first community, the first grid of the second


DEMO_ACCOUNTS = [
    DemoAccount("grid1", "grid_worker", "grid", "网格员", "grid worker", 0),
    DemoAccount("grid2", "grid_worker", "grid", "网格员", "grid worker", 1),
    DemoAccount("community", "community_officer", "community", "社区工作人员", "community officer"),
    DemoAccount("command", "command_centre", "street", "指挥中心", "command centre"),
    DemoAccount("sysadmin", "system_admin", "street", "系统管理员", "system administrator"),
    DemoAccount("secadmin", "security_admin", "street", "安全管理员", "security administrator"),
    DemoAccount("auditor", "auditor", "street", "审计员", "auditor"),
    DemoAccount("resident", "resident", "self", "居民", "resident"),
]
DEMO_USERNAMES = frozenset(a.username for a in DEMO_ACCOUNTS)
# Accounts other apps' demo commands create with the same password (cases_demo: members of two handling units).
EXTRA_DEMO_ACCOUNTS = {"unit1": ("处置单位（物业公司）", "handling unit (property company)"),
                       "unit2": ("处置单位（城管中队）", "handling unit (city management)"),
                       "ent1": ("楼宇企业联系人", "a tower enterprise's contact")}


def demo_passwords_remain() -> bool:
    """True while any active demo account still accepts the published demo password."""
    users = get_user_model().objects.filter(username__in=DEMO_USERNAMES | set(EXTRA_DEMO_ACCOUNTS), is_active=True)
    return any(user.check_password(DEMO_PASSWORD) for user in users)


@transaction.atomic
def ensure_demo_accounts(street) -> list[dict]:
    """Create the demo users (a password changed since is kept) and point their grants at the demo places."""
    from core.models import Grant
    from core.roles import ensure_default_roles
    from places.models import Community, Grid

    roles = ensure_default_roles()
    # the community with the office tower first: its officer runs the tidal parking between the tower and the
    # compounds (shared resources), so the demo officer and grid worker see the whole story
    from django.db.models import Exists, OuterRef

    from places.models import Compound

    office = Compound.objects.filter(community=OuterRef("pk"), kind="office")
    communities = list(Community.objects.filter(street=street).annotate(office=Exists(office))
                       .order_by("-office", "id")[:2])
    if not communities:
        raise ValueError("the demo street has no communities: run manage.py demo first")
    User = get_user_model()
    rows = []
    for account in DEMO_ACCOUNTS:
        user, created = User.objects.get_or_create(username=account.username)
        if created:
            password_validation.validate_password(DEMO_PASSWORD, user)
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        community = grid = None
        if account.level == "grid":
            community = communities[min(account.which, len(communities) - 1)]
            # The grid with the most houses, so that the grid worker has a full grid to look at.
            grid = (Grid.objects.filter(community=community).annotate(n=Count("houses"))
                    .order_by("-n", "id").first())
        elif account.level == "community":
            community = communities[0]
        ids = {"street_id": street.pk if account.level != "self" else None,
               "community_id": community.pk if community else None, "grid_id": grid.pk if grid else None}
        role = roles[account.role]
        Grant.objects.filter(user=user).exclude(role=role).delete()
        grants = list(Grant.objects.filter(user=user, role=role))
        if grants:
            Grant.objects.filter(pk__in=[g.pk for g in grants[1:]]).delete()
            Grant.objects.filter(pk=grants[0].pk).update(level=account.level, expires_at=None, **ids)
        else:
            Grant.objects.create(user=user, role=role, level=account.level, reason="演示账号", **ids)
        place = f"{community} {grid}" if grid else community or (street if account.level != "self" else None)
        otp = ensure_demo_otp(user)
        rows.append({"username": account.username, "role_zh": account.label_zh, "role_en": account.label_en,
                     "place": str(place) if place else "本人提交的内容 / own submissions",
                     "demo_password": user.check_password(DEMO_PASSWORD), "otp": otp is not None})
    return rows


def ensure_demo_otp(user) -> object | None:
    """Demo accounts whose role requires a second factor get a confirmed TOTP device, so that a newcomer can
    log in as the command centre without first enrolling a phone; ``manage.py demo_otp USER`` prints the code.
    Real accounts enrol through the access pages."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from core.scope import OTP_REQUIRED_ROLES, resolve_scope

    if not OTP_REQUIRED_ROLES & set(resolve_scope(user).roles):
        return None
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="demo", confirmed=True)
    return device


def current_demo_otp(username: str) -> str:
    """The current six-digit code of a demo account's TOTP device."""
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if username not in DEMO_USERNAMES:
        raise ValueError(f"{username} is not a demo account")
    device = TOTPDevice.objects.filter(user__username=username, confirmed=True).order_by("id").first()
    if device is None:
        raise ValueError(f"{username} has no second factor")
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"
