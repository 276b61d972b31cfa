"""Approver groups: a resource that asks for approval and names a group sends its pending bookings to the group's
members only (one inbox entry per member and booking); any one member decides, a second decision is refused (two
at once: one wins); every decision is audited; another community's officer neither sees nor uses the group; a
resource without a group keeps the old rule (anyone with the permission on its place)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from conftest import make_user
from resources import services
from resources.choices import BookingState
from resources.models import ApproverGroup, Booking
from resources.tests.conftest import at

MONDAY = dt.date(2026, 3, 9)
NOW = "2026-03-09 10:00 +0800"


def _staff(world):
    """A second officer of community A (a group member), and an officer of community B."""
    return (make_user("officer_a2", "community_officer", "community", street=world.street,
                      community=world.communities["A"], roles=world.roles),
            make_user("officer_b", "community_officer", "community", street=world.street,
                      community=world.communities["B"], roles=world.roles))


def _grouped_room(world, site, members):
    group = services.create_group(world.users.officer_a, "客厅审批组", world.communities["A"])
    for user in members:
        services.add_member(world.users.officer_a, group, user)
    site.room.needs_approval = True
    site.room.approver_group = group
    site.room.save()
    return group


def _inbox(user, booking):
    from notify.models import Notification

    return Notification.objects.filter(user=user, dedupe_key=f"resources:approve:{booking.pk}").count()


@time_machine.travel(NOW, tick=False)
def test_a_pending_booking_goes_to_the_groups_members_only_once(world, site, client):
    officer_a2, officer_b = _staff(world)
    group = _grouped_room(world, site, [officer_a2])
    b = services.book(world.people["张三"], site.room, at(MONDAY, 14), at(MONDAY, 16))
    assert b.state == BookingState.PENDING
    assert _inbox(officer_a2, b) == 1
    assert _inbox(world.users.officer_a, b) == 0  # holds the permission, not a member: not told
    services.ask_approvers(b, [site.room])  # asked again: still one entry
    assert _inbox(officer_a2, b) == 1
    # the pending page: the member sees it under their groups; the non-member officer does not see it at all
    client.force_login(officer_a2)
    html = client.get("/resources/staff/pending/").content.decode()
    assert 'data-pending="mine"' in html and f'data-booking="{b.pk}"' in html and group.name in html
    client.force_login(world.users.officer_a)
    assert f'data-booking="{b.pk}"' not in client.get("/resources/staff/pending/").content.decode()
    # and the non-member may not decide, by the page or the service
    assert client.post(f"/resources/staff/bookings/{b.pk}/approve/").status_code == 403
    with pytest.raises(PermissionDenied):
        services.approve(b, world.users.officer_a)
    b.refresh_from_db()
    assert b.state == BookingState.PENDING


@time_machine.travel(NOW, tick=False)
def test_a_member_refuses_with_a_reason_audited_and_a_second_decision_is_refused(world, site, client):
    from core.models import AuditEvent

    officer_a2, _b = _staff(world)
    group = _grouped_room(world, site, [officer_a2, world.users.officer_a])
    b = services.book(world.people["张三"], site.room, at(MONDAY, 14), at(MONDAY, 16))
    client.force_login(officer_a2)
    client.post(f"/resources/staff/bookings/{b.pk}/reject/", {"reason": "当天有社区活动"})
    b.refresh_from_db()
    assert b.state == BookingState.REJECTED and b.note == "当天有社区活动"
    with pytest.raises(ValidationError):
        services.approve(b, world.users.officer_a)
    b.refresh_from_db()
    assert b.state == BookingState.REJECTED
    events = list(AuditEvent.objects.filter(action__in=["approve", "reject"], object_id=str(b.pk)))
    assert len(events) == 1 and events[0].user_id == officer_a2.pk
    assert events[0].purpose == "当天有社区活动" and events[0].changes["group"] == [None, group.pk]


@time_machine.travel(NOW, tick=False)
def test_a_phone_typed_into_a_refusals_reason_is_masked_in_the_audit_the_booking_and_the_inbox(world, site):
    from core.models import AuditEvent

    officer_a2, _b = _staff(world)
    _grouped_room(world, site, [officer_a2])
    b = services.book(world.people["张三"], site.room, at(MONDAY, 14), at(MONDAY, 16), user=world.users.resident)
    services.reject(b, officer_a2, reason="改期请联系13812345678")
    event = AuditEvent.objects.get(action="reject", object_id=str(b.pk))
    assert "13812345678" not in str(event.purpose) + str(event.changes)
    assert "138****5678" in event.purpose
    b.refresh_from_db()
    assert b.note == "改期请联系138****5678", "the booking keeps the reason masked"
    from notify.models import Notification

    told = list(Notification.objects.filter(user=world.users.resident).values_list("title", flat=True))
    assert told and "138****5678" in told[-1] and "13812345678" not in " ".join(told)


@time_machine.travel(NOW, tick=False)
def test_without_a_group_the_permission_on_the_place_still_decides(world, site):
    site.room.needs_approval = True
    site.room.save()
    b = services.book(world.people["张三"], site.room, at(MONDAY, 14), at(MONDAY, 16))
    services.approve(b, world.users.officer_a)
    b.refresh_from_db()
    assert b.state == BookingState.CONFIRMED


@time_machine.travel(NOW, tick=False)
def test_another_communitys_officer_cannot_see_or_use_the_group(world, site, client):
    officer_a2, officer_b = _staff(world)
    group = _grouped_room(world, site, [officer_a2])
    client.force_login(officer_b)
    page = client.get("/resources/staff/groups/")
    assert page.status_code == 200 and group.name not in page.content.decode()
    assert client.post("/resources/staff/groups/", {"action": "add", "group": group.pk,
                                                     "user": officer_b.pk}).status_code == 404
    with pytest.raises(PermissionDenied):
        services.add_member(officer_b, group, officer_b)
    with pytest.raises(PermissionDenied):
        services.create_group(officer_b, "越权", world.communities["A"])
    # a member must be staff who may approve there: community B's officer may not join community A's group
    with pytest.raises(ValidationError):
        services.add_member(world.users.officer_a, group, officer_b)
    assert list(group.members.all()) == [officer_a2]
    b = services.book(world.people["张三"], site.room, at(MONDAY, 14), at(MONDAY, 16))
    with pytest.raises(PermissionDenied):
        services.approve(b, officer_b)
    # the resource form offers only groups of the officer's places
    from resources.forms import ResourceForm

    assert group not in ResourceForm(instance=site.room, user=officer_b).fields["approver_group"].queryset
    assert group in ResourceForm(instance=site.room, user=world.users.officer_a).fields["approver_group"].queryset


@time_machine.travel(NOW, tick=False)
def test_the_groups_page_creates_a_group_and_adds_and_removes_a_member(world, site, client):
    officer_a2, _b = _staff(world)
    client.force_login(world.users.officer_a)
    r = client.post("/resources/staff/groups/", {"action": "create", "name": "车库审批组",
                                                  "community": world.communities["A"].pk})
    assert r.status_code == 302
    group = ApproverGroup.objects.get(name="车库审批组")
    assert group.community_id == world.communities["A"].pk
    client.post("/resources/staff/groups/", {"action": "add", "group": group.pk, "user": officer_a2.pk})
    assert list(group.members.all()) == [officer_a2]
    assert f'data-member="{officer_a2.pk}"' in client.get("/resources/staff/groups/").content.decode()
    client.post("/resources/staff/groups/", {"action": "remove", "group": group.pk, "user": officer_a2.pk})
    assert list(group.members.all()) == []
    client.force_login(world.users.worker_a1)  # a grid worker holds no approver-group permission
    assert client.get("/resources/staff/groups/").status_code == 403


def _decide_twice_at_once(world, site, members, b):
    """Two members decide at once, each on its own connection (PostgreSQL): one wins."""
    barrier = threading.Barrier(2)
    won, lost = [], []

    def run(user, decision):
        try:
            booking = Booking.objects.get(pk=b.pk)
            barrier.wait()
            try:
                (services.approve if decision == "approve" else services.reject)(booking, user, "并发")
                won.append(decision)
            except ValidationError:
                lost.append(decision)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=a) for a in ((members[0], "approve"), (members[1], "reject"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return won, lost


@pytest.mark.django_db(transaction=True)
def test_one_decision_wins_when_two_members_decide_at_once(world, site):
    from core.models import AuditEvent

    officer_a2, _b = _staff(world)
    members = [officer_a2, world.users.officer_a]
    _grouped_room(world, site, members)
    with time_machine.travel(NOW, tick=False):
        b = services.book(world.people["张三"], site.room, at(MONDAY, 14), at(MONDAY, 16))
    if connection.vendor == "postgresql":
        won, lost = _decide_twice_at_once(world, site, members, b)
    else:  # SQLite's in-memory test database is one connection: the two decisions one after the other
        won, lost = [], []
        for user, fn in ((members[0], services.approve), (members[1], services.reject)):
            try:
                fn(Booking.objects.get(pk=b.pk), user, "先后")
                won.append(fn.__name__)
            except ValidationError:
                lost.append(fn.__name__)
    assert len(won) == 1 and len(lost) == 1
    b.refresh_from_db()
    assert b.state == (BookingState.CONFIRMED if won == ["approve"] else BookingState.REJECTED)
    assert AuditEvent.objects.filter(action__in=["approve", "reject"], object_id=str(b.pk)).count() == 1


@time_machine.travel(NOW, tick=False)
def test_places_won_in_a_draw_go_to_the_pools_group_too(world, site):
    officer_a2, _b = _staff(world)
    group = services.create_group(world.users.officer_a, "车库审批组", world.communities["A"])
    services.add_member(world.users.officer_a, group, officer_a2)
    site.garage.needs_approval = True
    site.garage.approver_group = group
    site.garage.save()
    results = services.allocate(site.garage, [(world.people["张三"], None)], at(MONDAY, 19),
                                at(MONDAY + dt.timedelta(days=1), 8))
    booking, why = results[0]
    assert why == "" and booking.state == BookingState.PENDING
    assert _inbox(officer_a2, booking) == 1 and _inbox(world.users.officer_a, booking) == 0
