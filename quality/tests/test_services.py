"""Policies (the shortest interval wins), stamps and staleness, recompute idempotence, dismissals, worklist,
assignment, signals, scores, snapshots and the periodic jobs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from quality import engine, services
from quality.models import FreshnessPolicy, HouseStatus, PersonStatus, QualityIssue
from quality.tests.conftest import add_person, found, house_subject

pytestmark = pytest.mark.django_db


def status(house) -> HouseStatus:
    return HouseStatus.objects.get(pk=house.pk)


def test_the_default_policies_are_seeded():
    got = {(p.house_use, p.tag_code): p.interval_days for p in FreshnessPolicy.objects.all()}
    assert got == {("rented", ""): 30, ("owner", ""): 180, ("vacant", ""): 90, ("commercial", ""): 180,
                   ("", "elderly_alone"): 30}


def test_a_house_gets_the_interval_of_its_use(world, empty_houses):
    from places.models import House

    House.objects.filter(pk=empty_houses[0].pk).update(use="vacant")
    House.objects.filter(pk=empty_houses[1].pk).update(use="rented")
    services.recompute()
    assert status(empty_houses[0]).interval_days == 90
    assert status(empty_houses[1]).interval_days == 30
    assert status(empty_houses[2]).interval_days == 180


def test_the_shortest_of_use_and_tag_intervals_wins(world, empty_houses):
    from people.models import PersonTag, Tag

    tag = Tag.objects.create(code="elderly_alone", name="独居老人")
    h = empty_houses[0]
    p = add_person(h, "独居老人甲", relation="householder", birth=dt.date(1940, 1, 1))
    PersonTag.objects.create(person=p, tag=tag)
    services.recompute()
    s = status(h)
    assert (s.interval_days, s.key_group) == (30, True)  # owner 180 vs elderly_alone 30
    FreshnessPolicy.objects.filter(tag_code="elderly_alone").update(interval_days=200)
    services.recompute()
    assert status(h).interval_days == 180  # now the use's 180 is the shorter
    FreshnessPolicy.objects.filter(house_use="owner").delete()
    services.recompute()
    assert status(h).interval_days == 200


def test_a_stamp_sets_the_due_date_one_interval_later_and_staleness_follows_the_clock(world, empty_houses):
    from places.models import House

    h = empty_houses[0]
    House.objects.filter(pk=h.pk).update(use="rented")
    services.recompute()
    assert status(h).is_stale  # never verified
    at = timezone.now() - dt.timedelta(days=29)
    services.stamp_verified(world.users.worker_a1, "visit", house_ids=[h.pk], at=at)
    s = status(h)
    assert (s.is_stale, s.last_verified_method, s.last_verified_by_id) == (False, "visit", world.users.worker_a1.pk)
    assert abs((s.due_at - (at + dt.timedelta(days=30))).total_seconds()) < 1
    engine.recompute_all(now=timezone.now() + dt.timedelta(days=2))  # one day past due
    assert status(h).is_stale


def test_an_older_stamp_never_overwrites_a_newer_one(world, empty_houses):
    h = empty_houses[0]
    new = timezone.now() - dt.timedelta(days=1)
    services.stamp_verified(None, "visit", house_ids=[h.pk], at=new)
    services.stamp_verified(None, "import", house_ids=[h.pk], at=new - dt.timedelta(days=10))
    s = status(h)
    assert (s.last_verified_method, abs((s.last_verified_at - new).total_seconds()) < 1) == ("visit", True)


def test_a_stamp_on_a_house_outside_the_users_grid_is_refused_and_nothing_is_saved(world):
    mine, other = world.houses["A1"][0], world.houses["B1"][0]
    with pytest.raises(PermissionDenied):
        services.stamp_verified(world.users.worker_a1, "visit", house_ids=[mine.pk, other.pk])
    assert not HouseStatus.objects.filter(last_verified_at__isnull=False).exists()


def test_an_unknown_method_is_refused_in_chinese(world):
    with pytest.raises(ValidationError) as exc:
        services.stamp_verified(None, "telepathy", house_ids=[world.houses["A1"][0].pk])
    assert "核实方式" in str(exc.value)


def test_persons_are_stamped_too(world):
    p = world.people["张三"]
    services.stamp_verified(world.users.worker_a1, "feedback", person_ids=[p.pk])
    s = PersonStatus.objects.get(pk=p.pk)
    assert (s.last_verified_method, s.last_verified_by_id) == ("feedback", world.users.worker_a1.pk)


def test_recompute_is_idempotent(world, empty_houses):
    add_person(empty_houses[0], "配偶丁", relation="spouse")
    first = services.recompute()
    ids = sorted(QualityIssue.objects.values_list("id", "status"))
    versions = sorted(HouseStatus.objects.values_list("house_id", "version", "due_at", "is_stale"))
    second = services.recompute()
    assert first["opened"] >= 1
    assert (second["opened"], second["resolved"], second["updated"], second["inserted"]) == (0, 0, 0, 0)
    assert sorted(QualityIssue.objects.values_list("id", "status")) == ids
    assert sorted(HouseStatus.objects.values_list("house_id", "version", "due_at", "is_stale")) == versions


def test_an_issue_fixed_in_the_registry_is_resolved_by_the_next_recompute(world, empty_houses):
    from people.models import Residence

    h = empty_houses[0]
    add_person(h, "配偶戊", relation="spouse")
    services.recompute()
    assert status(h).open_issues == 1
    Residence.objects.filter(house=h).update(relation="householder")
    services.recompute()
    issue = QualityIssue.objects.get(rule="householder_missing", house=h)
    assert (issue.status, issue.reason) == ("resolved", engine.AUTO_RESOLVE_REASON)
    assert status(h).open_issues == 0


def test_a_dismissed_issue_stays_dismissed_across_recomputes(world, empty_houses):
    h = empty_houses[0]
    add_person(h, "配偶己", relation="spouse")
    services.recompute()
    issue = QualityIssue.objects.get(rule="householder_missing", house=h)
    services.dismiss_issue(world.users.officer_a, issue.pk, "户主长期在外，由配偶代管")
    services.recompute()
    services.recompute()
    assert list(QualityIssue.objects.filter(rule="householder_missing", house=h).values_list("status", flat=True)) \
        == ["dismissed"]
    assert status(h).open_issues == 0


def test_a_resolved_issue_that_is_still_true_comes_back(world, empty_houses):
    h = empty_houses[0]
    add_person(h, "配偶庚", relation="spouse")
    services.recompute()
    issue = QualityIssue.objects.get(rule="householder_missing", house=h)
    services.resolve_issue(world.users.officer_a, issue.pk, "已电话核实")
    services.recompute()
    assert house_subject(h) in found("householder_missing")


def test_closing_an_issue_needs_a_reason_the_permission_and_the_current_version(world, empty_houses):
    from django.http import Http404

    from core.models import AuditEvent
    from core.services import ConflictError

    h = empty_houses[0]
    add_person(h, "配偶辛", relation="spouse")
    services.recompute()
    issue = QualityIssue.objects.get(rule="householder_missing", house=h)
    with pytest.raises(ValidationError) as exc:
        services.dismiss_issue(world.users.officer_a, issue.pk, " ")
    assert "理由" in str(exc.value)
    with pytest.raises(PermissionDenied):
        services.dismiss_issue(world.users.worker_a1, issue.pk, "不是问题")
    with pytest.raises(Http404):
        services.dismiss_issue(world.users.worker_b1, issue.pk, "不是问题")
    with pytest.raises(ConflictError):
        services.resolve_issue(world.users.officer_a, issue.pk, "已核实", expected_version=issue.version + 5)
    services.resolve_issue(world.users.officer_a, issue.pk, "已核实", expected_version=issue.version)
    assert AuditEvent.objects.filter(action="resolve", object_id=str(issue.pk)).exists()
    with pytest.raises(ValidationError):
        services.dismiss_issue(world.users.officer_a, issue.pk, "再次处理")


def test_the_worklist_is_the_users_grid_building_by_building_with_reasons(world, empty_houses):
    services.recompute()
    items = services.worklist(world.users.worker_a1)
    a1 = {h.pk for h in world.houses["A1"]}
    assert {i.house_id for i in items} == a1  # never verified: every house of the grid, no other
    assert [i.reasons for i in items[:1]] == [["never"]]
    assert items[0].address.startswith("A1花园1幢1单元")
    assert [i.house_id for i in items] == [h.pk for h in sorted(world.houses["A1"],
                                                                 key=lambda h: (h.unit, h.floor, h.room))]


def test_every_page_of_the_worklist_is_the_same_slice_of_the_whole_list(world, empty_houses):
    services.recompute()
    officer = world.users.officer_a  # the community: several grids, compounds and buildings
    whole = [i.house_id for i in services.worklist(officer)]
    assert len(whole) > 7 and len({i.building_id for i in services.worklist(officer)}) > 1
    for size in (1, 3, 7):
        for offset in range(0, len(whole) + size, size):
            page = [i.house_id for i in services.worklist(officer, offset=offset, limit=size)]
            assert page == whole[offset:offset + size], (size, offset)
    assert services.worklist_count(officer) == len(whole)


def test_the_worklist_leaves_out_fresh_homes_and_keeps_homes_with_issues_and_key_groups_falling_due(world,
                                                                                                   empty_houses):
    from people.models import PersonTag, Tag

    services.recompute()
    issue_house, key_house = empty_houses[0], empty_houses[1]
    every = [h.pk for h in world.houses["A1"] if h != key_house]
    services.stamp_verified(None, "visit", house_ids=every)
    assert [i.house_id for i in services.worklist(world.users.worker_a1)] == [key_house.pk]
    add_person(issue_house, "配偶壬", relation="spouse")
    p = add_person(key_house, "独居老人乙", relation="householder", birth=dt.date(1938, 1, 1))
    PersonTag.objects.create(person=p, tag=Tag.objects.create(code="elderly_alone", name="独居老人"))
    services.stamp_verified(None, "visit", house_ids=[key_house.pk], at=timezone.now() - dt.timedelta(days=25))
    services.recompute()
    items = {i.house_id: i.reasons for i in services.worklist(world.users.worker_a1)}
    assert items == {issue_house.pk: ["issues"], key_house.pk: ["key_group"]}


def test_assign_needs_the_permission_and_a_worker_who_sees_the_houses(world):
    a1 = [h.pk for h in world.houses["A1"][:3]]
    services.recompute()
    with pytest.raises(PermissionDenied):
        services.assign(world.users.worker_a1, a1, world.users.worker_a1)
    with pytest.raises(ValidationError):
        services.assign(world.users.officer_a, a1, world.users.worker_b1)
    with pytest.raises(PermissionDenied):
        services.assign(world.users.officer_a, [world.houses["B1"][0].pk], world.users.worker_b1)
    assert services.assign(world.users.officer_a, a1, world.users.worker_a1) == 3
    mine = services.worklist(world.users.officer_a, worker=world.users.worker_a1)
    assert {i.house_id for i in mine} == set(a1)


def test_registering_a_move_in_refreshes_the_house_and_stamps_it(world, empty_houses,
                                                                 django_capture_on_commit_callbacks):
    from people.services import PersonData, save_person

    h = empty_houses[0]
    services.recompute()
    with django_capture_on_commit_callbacks(execute=True):
        save_person(None, PersonData(name="新住户", id_number=_valid_id()), house=h, relation="spouse",
                    accept_warnings=True, source="import")
    s = status(h)
    assert (s.residents, s.open_issues, s.last_verified_method) == (1, 1, "import")
    assert house_subject(h) in found("householder_missing")


def _valid_id() -> str:
    from quality.tests.conftest import rid

    return rid("19900307")


def test_a_move_out_refreshes_the_house_it_left(world, django_capture_on_commit_callbacks):
    from people.models import Residence
    from people.services import move_out

    h = world.houses["A1"][0]
    services.recompute()
    head = Residence.objects.get(house=h, relation="householder", moved_out__isnull=True)
    with django_capture_on_commit_callbacks(execute=True):
        move_out(None, head, reason="搬走")
    assert house_subject(h) in found("householder_missing")
    assert status(h).residents == 1


def test_the_score_follows_the_four_parts(world, empty_houses):
    from quality import scores

    services.recompute()
    f = scores.figures("grid")[world.grids["A1"].pk]
    assert (f["houses"], f["stale"], f["area"], f["house"], f["household"], f["person"]) == (24, 24, 0, 100, 100, 100)
    assert f["score"] == 75.0
    services.stamp_verified(None, "visit", house_ids=[h.pk for h in world.houses["A1"][:12]])
    add_person(empty_houses[0], "配偶癸", relation="spouse")
    services.recompute()
    f = scores.figures("grid")[world.grids["A1"].pk]
    assert (f["area"], f["house"]) == (50.0, round(100 * 23 / 24, 1))
    assert f["score"] == round((50.0 + round(100 * 23 / 24, 1) + 100 + 100) / 4, 1)


def test_the_weekly_snapshot_feeds_the_trend(world):
    from quality import scores
    from quality.models import GridSnapshot

    services.recompute()
    services.stamp_verified(None, "visit", house_ids=[h.pk for h in world.houses["A1"][:6]])
    services.recompute()
    assert scores.take_snapshot() == 3
    assert scores.take_snapshot() == 3  # the same week is replaced, not duplicated
    assert GridSnapshot.objects.count() == 3
    trend = scores.trend("grid")
    assert list(trend[world.grids["A1"].pk].values()) == [0.25]
    street = scores.trend("street")[world.street.pk]
    assert list(street.values()) == [round(6 / 72, 4)]


def test_the_cockpit_metrics_are_registered_and_computed_per_level(world):
    pytest.importorskip("cockpit.registry")
    from cockpit.registry import get_metric

    services.recompute()
    services.stamp_verified(None, "visit", house_ids=[world.houses["B1"][0].pk])
    fresh = get_metric("quality.freshness").compute("community")
    assert fresh[world.communities["B"].pk] == {"rate": round(1 / 24, 4), "fresh": 1, "stale": 23}
    assert world.communities["A"].pk in fresh
    limited = get_metric("quality.freshness").compute("building", [world.buildings["B1"].pk])
    assert list(limited) == [world.buildings["B1"].pk]
    assert get_metric("quality.score").compute("grid")[world.grids["B1"].pk]["score"] > 0


def test_the_jobs_run_on_the_task_backend(world, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    from quality import tasks

    tasks.recompute_all.enqueue()
    assert HouseStatus.objects.count() == 72
    HouseStatus.objects.filter(pk=world.houses["A1"][0].pk).delete()
    tasks.refresh_dirty.enqueue()
    assert HouseStatus.objects.count() == 72
    tasks.weekly_snapshot.enqueue()
    from quality.models import GridSnapshot

    assert GridSnapshot.objects.count() == 3


def test_overdue_reminders_reach_each_assigned_worker_once_a_day(world, settings):
    notify = pytest.importorskip("notify.models")
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    from quality import tasks

    services.recompute()
    services.assign(world.users.officer_a, [h.pk for h in world.houses["A1"][:2]], world.users.worker_a1)
    assert tasks.overdue_reminders.call() == 1
    tasks.overdue_reminders.call()
    assert notify.Notification.objects.filter(user=world.users.worker_a1).count() == 1
    assert notify.Notification.objects.filter(user=world.users.worker_a2).count() == 0


def test_the_periodic_jobs_are_registered():
    from core.schedule import registered

    names = {j.name for j in registered()}
    assert {"quality.refresh_dirty", "quality.recompute", "quality.snapshot", "quality.overdue_reminders"} <= names
