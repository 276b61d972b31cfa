"""Login protection, sessions, the second factor, grants as data, and the three separate duties."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import PASSWORD, verified_login
from core.models import AuditEvent, Grant
from core.scope import needs_reason
from people.models import Person, Residence
from places.models import House

LOGIN = "/access/login/"


class Clock:
    """Moves ``django.utils.timezone.now`` (which the session policy, the lockout and the audit all read)."""

    def __init__(self, monkeypatch) -> None:
        self.offset = dt.timedelta()
        real = timezone.now
        monkeypatch.setattr(timezone, "now", lambda: real() + self.offset)

    def advance(self, **kwargs) -> None:
        self.offset += dt.timedelta(**kwargs)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


def post_login(client, username, password=PASSWORD, ip="10.0.0.1", **extra):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip, **extra)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


# --- passwords ---------------------------------------------------------------------------------------------------
def test_real_settings_hash_passwords_with_argon2():
    import renfang.settings as real

    assert real.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


@pytest.mark.parametrize("password, reason", [
    ("Ab1!short", "12"),                 # too short
    ("password1234", "常见|common"),      # common (and only two classes)
    ("abcdefghijkl1", "三类"),            # long but only two classes
])
def test_weak_passwords_are_refused_with_the_reason(password, reason):
    import re

    with pytest.raises(ValidationError) as exc:
        validate_password(password)
    assert re.search(reason, " ".join(exc.value.messages))


def test_a_long_password_with_three_classes_is_accepted():
    validate_password("Yuanhe-grid-2026")


# --- login, lockout, per-IP limit ---------------------------------------------------------------------------------
def test_login_gives_a_new_session_id_and_is_audited(world, client):
    client.get(LOGIN)
    client.session.save()
    before = client.session.session_key
    r = post_login(client, "worker_a1")
    assert r.status_code == 302
    assert logged_in(client)
    assert client.session.session_key != before
    ev = AuditEvent.objects.filter(action="login").latest("id")
    assert ev.username == "worker_a1" and ev.ip == "10.0.0.1" and ev.request_id


def test_the_sixth_try_with_the_right_password_fails_after_five_failures(world, client, clock):
    for _ in range(5):
        assert post_login(client, "worker_a1", "wrong-Password-1").status_code == 401
    r = post_login(client, "worker_a1")
    assert r.status_code == 401 and not logged_in(client)
    assert "锁定" in r.content.decode()
    failures = AuditEvent.objects.filter(action="login_failed", username="worker_a1")
    assert failures.count() == 6
    assert failures.latest("id").result == "locked"
    clock.advance(minutes=29)
    assert post_login(client, "worker_a1").status_code == 401
    clock.advance(minutes=2)
    assert post_login(client, "worker_a1").status_code == 302
    assert logged_in(client)


def test_failures_of_unknown_names_are_audited_and_lock_the_same_way(db, client):
    for _ in range(5):
        post_login(client, "no-such-user", "whatever-Pass1")
    assert AuditEvent.objects.filter(action="login_failed", username="no-such-user").count() == 5
    assert post_login(client, "no-such-user", "x").content.decode().count("锁定") >= 1


def test_one_address_with_too_many_failures_is_refused_for_every_account(world, client, settings):
    settings.RENFANG_IP_FAILURES_PER_HOUR = 3
    for name in ("a", "b", "c"):
        post_login(client, name, "wrong-Password-1", ip="10.9.9.9")
    assert post_login(client, "worker_a1", ip="10.9.9.9").status_code == 401
    assert AuditEvent.objects.filter(action="login_failed", result="ip_limited").count() == 1
    assert post_login(client, "worker_a1", ip="10.9.9.10").status_code == 302


def test_a_success_resets_the_failure_count(world, client):
    for _ in range(4):
        post_login(client, "worker_a1", "wrong-Password-1")
    assert post_login(client, "worker_a1").status_code == 302
    client.post(reverse("access:logout"))
    for _ in range(4):
        post_login(client, "worker_a1", "wrong-Password-1")
    assert post_login(client, "worker_a1").status_code == 302


# --- sessions ------------------------------------------------------------------------------------------------------
def test_an_idle_session_ends_after_30_minutes_and_is_deleted_on_the_server(world, client, clock):
    post_login(client, "worker_a1")
    key = client.session.session_key
    clock.advance(minutes=29)
    assert client.get(reverse("access:password_change")).status_code == 200
    clock.advance(minutes=29)  # active 29 minutes ago: still fine
    assert client.get(reverse("access:password_change")).status_code == 200
    clock.advance(minutes=31)
    r = client.get(reverse("access:password_change"))
    assert r.status_code == 302 and r.url.startswith(LOGIN)
    assert not Session.objects.filter(session_key=key).exists()


def test_a_session_ends_after_12_hours_however_active(world, client, clock):
    post_login(client, "worker_a1")
    for _ in range(28):  # a request every 25 minutes: 11 h 40 min
        clock.advance(minutes=25)
        assert client.get(reverse("access:password_change")).status_code == 200
    clock.advance(minutes=15)  # 11 h 55 min
    assert client.get(reverse("access:password_change")).status_code == 200
    clock.advance(minutes=10)  # 12 h 05 min
    r = client.get(reverse("access:password_change"))
    assert r.status_code == 302 and r.url.startswith(LOGIN)


def test_an_old_cookie_replayed_after_the_idle_limit_is_refused(world, clock):
    first = Client()
    post_login(first, "worker_a1")
    cookie = first.cookies["sessionid"].value
    clock.advance(minutes=45)
    replay = Client()
    replay.cookies["sessionid"] = cookie
    r = replay.get(reverse("access:password_change"))
    assert r.status_code == 302 and r.url.startswith(LOGIN)


def test_logout_ends_every_session_of_the_user_on_the_server(world):
    phone, desk = Client(), Client()
    post_login(phone, "worker_a1")
    post_login(desk, "worker_a1")
    keys = [phone.session.session_key, desk.session.session_key]
    assert Session.objects.filter(session_key__in=keys).count() == 2
    phone.post(reverse("access:logout"))
    assert not Session.objects.filter(session_key__in=keys).exists()
    assert desk.get(reverse("access:password_change")).status_code == 302
    assert AuditEvent.objects.filter(action="logout", username="worker_a1").count() == 1


def test_password_change_ends_every_session_and_the_new_password_works(world):
    phone, desk = Client(), Client()
    post_login(phone, "worker_a1")
    post_login(desk, "worker_a1")
    r = desk.post(reverse("access:password_change"), {"old_password": PASSWORD, "new_password1": "Grid-Work-2027!x",
                                                     "new_password2": "Grid-Work-2027!x"})
    assert r.status_code == 302
    assert phone.get(reverse("access:password_change")).status_code == 302
    assert desk.get(reverse("access:password_change")).status_code == 302
    assert post_login(Client(), "worker_a1", "Grid-Work-2027!x").status_code == 302
    assert AuditEvent.objects.filter(action="password_change").count() == 1


def test_a_weak_new_password_is_refused_and_nothing_changes(world, client):
    post_login(client, "worker_a1")
    r = client.post(reverse("access:password_change"), {"old_password": PASSWORD, "new_password1": "short",
                                                       "new_password2": "short"})
    assert r.status_code == 200
    assert get_user_model().objects.get(username="worker_a1").check_password(PASSWORD)


# --- second factor ---------------------------------------------------------------------------------------------------
def _enrol(client, user):
    r = client.get(reverse("access:otp_setup"))
    assert r.status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    qr = client.get(reverse("access:otp_qr"))
    assert qr["Content-Type"] == "image/svg+xml" and b"<svg" in qr.content
    token = f"{totp(device.bin_key):06d}"
    r = client.post(reverse("access:otp_setup"), {"token": token, "next": "/access/password/"})
    assert r.status_code == 302
    return device


@pytest.mark.parametrize("persona", ["command", "sysadmin", "secadmin"])
def test_a_password_only_session_of_an_enforced_role_is_sent_to_the_otp_step_for_every_page(world, client,
                                                                                              persona):
    post_login(client, persona)
    for url in ["/", reverse("access:password_change"), reverse("access:grant_list"), "/people/"]:
        r = client.get(url)
        assert r.status_code == 302 and r.url.startswith(reverse("access:otp_setup")), url
    assert client.get("/api/people/").status_code == 403


def test_a_fragment_asked_for_by_htmx_before_the_second_factor_is_refused_not_redirected(world, client):
    post_login(client, "command")
    r = client.get(reverse("notify:badge"), headers={"HX-Request": "true"})
    assert r.status_code == 403 and r.content == b""
    assert client.get(reverse("notify:badge")).status_code == 302


def test_the_second_factor_step_shows_no_menu_and_asks_for_no_badge_until_it_is_passed(world, client):
    post_login(client, "command")
    r = client.get(reverse("access:otp_setup"))
    page = r.content.decode()
    assert r.status_code == 200 and 'name="token"' in page
    assert reverse("notify:badge") not in page, "the badge would be refused (a console error on the step's page)"
    assert 'class="mainnav"' not in page and reverse("access:password_change") not in page
    assert reverse("access:logout") in page, "the way out stays"
    verified_login(client, world.users.command)
    page = client.get("/").content.decode()
    assert reverse("notify:badge") in page and 'class="mainnav"' in page


def test_enrolment_with_a_qr_code_then_the_otp_step_at_every_login(world, client):
    user = world.users.command
    post_login(client, "command")
    _enrol(client, user)
    assert client.get(reverse("access:password_change")).status_code == 200
    assert AuditEvent.objects.filter(action="otp_enrolled", username="command").exists()
    client.post(reverse("access:logout"))
    post_login(client, "command")
    r = client.get(reverse("access:password_change"))
    assert r.status_code == 302 and r.url.startswith(reverse("access:otp"))
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    wrong = "000000" if totp(device.bin_key) != 0 else "111111"
    bad = client.post(reverse("access:otp"), {"token": wrong})
    assert bad.status_code == 200
    assert AuditEvent.objects.filter(action="otp_failed", username="command").exists()
    device.refresh_from_db()
    device.throttle_reset()
    # the next time step's code (the current one was spent on enrolment: codes are single-use)
    client.post(reverse("access:otp"), {"token": f"{totp(device.bin_key, drift=1):06d}"})
    assert client.get(reverse("access:password_change")).status_code == 200


def test_a_grid_worker_is_not_forced_but_may_enrol_and_is_then_asked(world, client):
    post_login(client, "worker_a1")
    assert client.get(reverse("access:password_change")).status_code == 200
    _enrol(client, world.users.worker_a1)
    client.post(reverse("access:logout"))
    post_login(client, "worker_a1")
    r = client.get(reverse("access:password_change"))
    assert r.status_code == 302 and r.url.startswith(reverse("access:otp"))


def test_the_qr_code_of_a_confirmed_device_is_never_served_again(world, client):
    post_login(client, "worker_a1")
    _enrol(client, world.users.worker_a1)
    assert client.get(reverse("access:otp_qr")).status_code == 404


# --- grants as data, applied on the next request ---------------------------------------------------------------------
def grant_form(world, user, level, place, **extra):
    data = {"user": user.pk, "role": world.roles["grid_worker"].pk, "level": level, "place": place, "reason": "支援"}
    data.update(extra)
    return data


def test_a_grant_made_in_the_ui_applies_on_the_next_request_and_its_expiry_ends_it(world, clock):
    admin, worker = Client(), Client()
    verified_login(admin, world.users.secadmin)
    verified_login(worker, world.users.worker_a1)
    b1_house = world.houses["B1"][0]
    assert worker.get(f"/api/places/houses/{b1_house.pk}/").status_code == 404
    expires = (timezone.localtime() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    r = admin.post(reverse("access:grant_create"),
                   grant_form(world, world.users.worker_a1, "grid", f"grid:{world.grids['B1'].pk}", expires_at=expires))
    assert r.status_code == 302, r.content.decode()[:2000]
    grant = Grant.objects.get(user=world.users.worker_a1, grid_id=world.grids["B1"].pk)
    assert grant.community_id == world.communities["B"].pk and grant.granted_by == world.users.secadmin
    assert AuditEvent.objects.filter(action="grant_create", object_id=str(grant.pk)).exists()
    assert worker.get(f"/api/places/houses/{b1_house.pk}/").status_code == 200
    clock.advance(days=3)
    verified_login(worker, world.users.worker_a1)
    assert worker.get(f"/api/places/houses/{b1_house.pk}/").status_code == 404


def test_a_revoked_grant_stops_on_the_next_request(world):
    worker, admin = Client(), Client()
    verified_login(worker, world.users.worker_a1)
    verified_login(admin, world.users.secadmin)
    house = world.houses["A1"][0]
    assert worker.get(f"/api/places/houses/{house.pk}/").status_code == 200
    grant = Grant.objects.get(user=world.users.worker_a1)
    assert admin.post(reverse("access:grant_delete", args=[grant.pk])).status_code == 302
    assert worker.get(f"/api/places/houses/{house.pk}/").status_code == 404
    assert AuditEvent.objects.filter(action="grant_delete").exists()


def test_a_grant_on_a_place_of_the_wrong_level_is_refused_in_chinese(world, client):
    verified_login(client, world.users.secadmin)
    r = client.post(reverse("access:grant_create"),
                    grant_form(world, world.users.worker_a1, "grid", f"community:{world.communities['B'].pk}"))
    assert r.status_code == 200 and "层级" in r.content.decode()


def test_the_security_admin_cannot_grant_themselves(world, client):
    verified_login(client, world.users.secadmin)
    r = client.post(reverse("access:grant_create"),
                    grant_form(world, world.users.secadmin, "street", f"street:{world.street.pk}"))
    assert r.status_code == 200 and "三权分立" in r.content.decode()
    assert Grant.objects.filter(user=world.users.secadmin).count() == 1


def test_a_role_edited_in_the_ui_changes_what_its_holders_may_do_on_the_next_request(world, client):
    verified_login(client, world.users.secadmin)
    role = world.roles["grid_worker"]
    perms = list(role.permissions.values_list("pk", flat=True))
    reveal = Person._meta.app_label + ".reveal_person"
    from django.contrib.auth.models import Permission

    p = Permission.objects.get(codename="reveal_person")
    r = client.post(reverse("access:role_edit", args=[role.pk]),
                    {"code": role.code, "name": role.name, "description": "", "is_active": "on",
                     "permissions": perms + [p.pk]})
    assert r.status_code == 302, r.context["form"].errors if r.context else reveal
    worker = get_user_model().objects.get(username="worker_a1")
    assert Person.objects.restrict(worker, "reveal").count() == 4


# --- three separate duties, none sees personal data -----------------------------------------------------------------
@pytest.mark.parametrize("persona", ["sysadmin", "secadmin", "auditor"])
def test_the_three_admins_see_no_personal_data(world, persona):
    user = getattr(world.users, persona)
    for model in (Person, Residence, House):
        for action in ("view", "change", "reveal", "export"):
            assert not model.objects.restrict(user, action).exists(), (model, action)


@pytest.mark.parametrize("persona, allowed", [
    ("sysadmin", {"access:user_list"}),
    ("secadmin", {"access:role_list", "access:grant_list"}),
    ("auditor", {"access:audit_list"}),
    ("worker_a1", set()),
])
def test_each_duty_opens_only_its_own_pages(world, client, persona, allowed):
    verified_login(client, getattr(world.users, persona))
    for name in ("access:user_list", "access:role_list", "access:grant_list", "access:audit_list"):
        status = client.get(reverse(name)).status_code
        assert status == (200 if name in allowed else 403), (name, status)


def test_the_system_admin_creates_a_user_with_a_strong_password_only(world, client):
    verified_login(client, world.users.sysadmin)
    r = client.post(reverse("access:user_create"), {"username": "new_worker", "password": "short"})
    assert r.status_code == 200 and not get_user_model().objects.filter(username="new_worker").exists()
    r = client.post(reverse("access:user_create"), {"username": "new_worker", "password": "Yuanhe-grid-2026"})
    assert r.status_code == 302
    assert not Grant.objects.filter(user__username="new_worker").exists()  # roles are the security admin's


def test_there_is_no_django_admin_site(world, client):
    from django.conf import settings

    assert "django.contrib.admin" not in settings.INSTALLED_APPS
    verified_login(client, world.users.sysadmin)
    assert client.get("/admin/").status_code == 404


def test_anonymous_users_are_sent_to_the_login_page(db, client):
    r = client.get(reverse("access:audit_list"))
    assert r.status_code == 302 and r.url.startswith(LOGIN)


# --- break the glass -----------------------------------------------------------------------------------------------
def test_the_command_centre_needs_a_reason_for_personal_detail_and_a_grid_worker_does_not(world):
    zhang = world.people["张三"]
    assert needs_reason(world.users.command, Person)
    assert needs_reason(world.users.command, zhang)
    assert not needs_reason(world.users.worker_a1, zhang)
    assert not needs_reason(world.users.officer_a, Person)


def test_a_command_centre_user_who_also_works_a_grid_needs_no_reason_there(world):
    from core.models import Grant as G

    G.objects.create(user=world.users.command, role=world.roles["grid_worker"], level="grid",
                     grid_id=world.grids["A1"].pk, community_id=world.communities["A"].pk, street_id=world.street.pk)
    user = get_user_model().objects.get(pk=world.users.command.pk)
    a1 = next(p for p in world.people.values() if p.grid_id == world.grids["A1"].pk)
    b1 = next(p for p in world.people.values() if p.grid_id == world.grids["B1"].pk)
    assert not needs_reason(user, a1)
    assert needs_reason(user, b1)


def test_the_reason_is_asked_once_per_session_per_object_and_audited(world, client):
    from django.test import RequestFactory

    from core.audit import require_reason

    zhang = world.people["张三"]
    verified_login(client, world.users.command)
    url = f"{reverse('access:reason')}?type=people.person&id={zhang.pk}&next=/"
    assert client.get(url).status_code == 200
    r = client.post(url, {"purpose": "短"})
    assert r.status_code == 200 and "事由" in r.content.decode()
    r = client.post(url, {"purpose": "核查矛盾纠纷当事人", "type": "people.person", "id": zhang.pk, "next": "/"})
    assert r.status_code == 302
    ev = AuditEvent.objects.get(action="break_glass")
    assert ev.purpose == "核查矛盾纠纷当事人" and ev.object_id == str(zhang.pk)
    request = RequestFactory().get("/people/")
    request.user = world.users.command
    request.session = client.session
    assert require_reason(request, zhang) is None
    other = world.people["李四"]
    redirect = require_reason(request, other)
    assert redirect is not None and redirect.url.startswith(reverse("access:reason"))


def test_the_reason_page_is_a_404_for_an_object_out_of_scope(world, client):
    b1 = next(p for p in world.people.values() if p.grid_id == world.grids["B1"].pk)
    client.force_login(world.users.worker_a1)
    r = client.get(f"{reverse('access:reason')}?type=people.person&id={b1.pk}")
    assert r.status_code == 404
    ev = AuditEvent.objects.filter(action="denied").latest("id")
    assert ev.username == "worker_a1" and ev.result == "404" and ev.object_type == "access:reason"


def test_the_api_asks_the_command_centre_for_a_reason_in_a_header(world, client):
    from urllib.parse import quote

    zhang = world.people["张三"]
    verified_login(client, world.users.command)
    url = f"/api/people/persons/{zhang.pk}/"
    assert client.get(url).status_code == 403
    r = client.get(url, HTTP_X_ACCESS_REASON=quote("核查矛盾纠纷当事人"))
    assert r.status_code == 200 and r.json()["id_number_masked"] == zhang.id_number_masked
    glass = AuditEvent.objects.get(action="break_glass")
    assert glass.purpose == "核查矛盾纠纷当事人"
    view = AuditEvent.objects.filter(action="view", object_id=str(zhang.pk)).latest("id")
    assert view.purpose == f"break_glass:{glass.pk}"


def test_the_access_pages_read_in_english(world, client):
    import re

    from django.conf import settings

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(reverse("access:login")).content.decode()
    assert "Log in" in page and "Username" in page
    verified_login(client, world.users.auditor)
    page = client.get(reverse("access:audit_list")).content.decode()
    text = re.sub(r"<[^>]+>", " ", page)
    assert "Audit log" in text and "Request ID" in text
    assert not re.search(r"[\u4e00-\u9fff]", text.replace("人房", "").replace("简体中文", "")), \
        re.findall(r"[\u4e00-\u9fff]+", text)[:10]
