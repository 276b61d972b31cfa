import datetime as dt
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from volunteers import ledger, services
from volunteers.models import AppendOnlyError, Movement, Transfer

from .conftest import at

pytestmark = pytest.mark.django_db


def test_a_verified_shift_is_one_transfer_that_balances_to_zero(site, done):
    t = services.verify(site.worker, done)
    assert t.movements.count() == 4
    by_unit = {}
    for m in t.movements.all():
        by_unit[m.unit] = by_unit.get(m.unit, 0) + m.amount
    assert by_unit == {"hours": 0, "points": 0}
    assert ledger.balances(site.v1) == {"hours": Decimal("1.75"), "points": Decimal("17.50")}
    figures = ledger.balance_figures()
    assert figures["ledger_balance"] == 0 and figures["unbalanced_transfers"] == 0
    assert figures["transfers"] == 1 and figures["accounts"] == 4


def test_verifying_twice_never_pays_twice(site, done):
    first = services.verify(site.worker, done)
    done.refresh_from_db()
    again = services.verify(site.officer, done)
    stale = type(done).objects.get(pk=done.pk)
    stale.verified_at = None  # a second organiser's page loaded before the first verified
    third = services.verify(site.officer, stale)
    assert first.pk == again.pk == third.pk
    assert Transfer.objects.count() == 1
    assert ledger.balances(site.v1)["hours"] == Decimal("1.75")


def test_an_unbalanced_or_single_leg_transfer_is_refused(site):
    from django.core.exceptions import ValidationError

    a = ledger.volunteer_account(site.v1, "hours")
    b = ledger.issuer_account(site.grid.community, "hours")
    with pytest.raises(ValidationError):
        ledger.post("earn", "x1", [(a, Decimal("1")), (b, Decimal("-0.5"))], occurred_on=site.day)
    with pytest.raises(ValidationError):
        ledger.post("earn", "x2", [(a, Decimal("1"))], occurred_on=site.day)
    assert Transfer.objects.count() == 0


def test_a_correction_is_a_reversing_transfer_and_the_right_entry(site, done):
    services.verify(site.worker, done)
    reversal, new = services.correct(site.officer, done, hours="2", reason="签到晚录了一刻钟")
    assert reversal.reverses is not None and new is not None
    assert Transfer.objects.count() == 3
    assert ledger.balances(site.v1) == {"hours": Decimal("2.00"), "points": Decimal("20.00")}
    assert ledger.balance_figures()["ledger_balance"] == 0
    # a second correction reverses the corrected entry, never the original twice
    services.correct(site.officer, done, reason="这次服务不算")
    assert ledger.balances(site.v1) == {"hours": 0, "points": 0}
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        ledger.reverse(reversal)


def test_the_model_refuses_an_edit_or_a_delete(site, done):
    services.verify(site.worker, done)
    m = Movement.objects.first()
    m.amount = Decimal("99")
    with pytest.raises(AppendOnlyError):
        m.save()
    with pytest.raises(AppendOnlyError):
        m.delete()
    with pytest.raises(AppendOnlyError):
        Movement.objects.filter(pk=m.pk).update(amount=1)
    with pytest.raises(AppendOnlyError):
        Transfer.objects.all().delete()


@pytest.mark.parametrize("sql", ["UPDATE volunteers_movement SET amount = 99",
                                 "DELETE FROM volunteers_movement",
                                 "UPDATE volunteers_transfer SET memo = 'x'",
                                 "DELETE FROM volunteers_transfer"])
def test_the_database_refuses_an_edit_or_a_delete_of_the_ledger(site, done, sql):
    services.verify(site.worker, done)
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql)
    assert ledger.balance_figures()["ledger_balance"] == 0
    assert Movement.objects.count() == 4


def test_the_guards_are_installed_on_this_database(db):
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'volunteers_%%append_only'")
        else:
            cur.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'volunteers_%'")
        names = {r[0] for r in cur.fetchall()}
    assert len(names) == (2 if connection.vendor == "postgresql" else 4)


def test_hours_count_only_inside_the_shift_rounded_down_to_a_quarter(site):
    s = services.sign_up(site.v2, site.shift, now=at(site.day, 7))
    services.check_in(s, actor=site.worker, now=at(site.day, 8, 40))  # early: counted from 09:00
    services.check_out(s, actor=site.worker, now=at(site.day, 10, 29))
    assert s.hours == Decimal("1.25")


def test_the_year_of_a_correction_is_the_year_of_the_shift(world):
    """A shift on 31 December corrected on 2 January counts in the old year's honour list."""
    import time_machine

    from .conftest import make_site

    with time_machine.travel(dt.datetime(2026, 12, 30, 10, tzinfo=dt.UTC), tick=False):
        site = make_site(world, day=dt.date(2026, 12, 31))
        s = services.sign_up(site.v1, site.shift)
    services.check_in(s, actor=site.worker, now=at(site.day, 9))
    services.check_out(s, actor=site.worker, now=at(site.day, 11))
    with time_machine.travel(dt.datetime(2027, 1, 2, 1, tzinfo=dt.UTC), tick=False):
        services.verify(site.worker, s)
        services.correct(site.officer, s, hours="3", reason="实际服务三小时")
    from volunteers.models import Volunteer

    rows = services.honour_list(2026, Volunteer.objects.all())
    assert [(r["volunteer"].pk, r["hours"]) for r in rows] == [(site.v1.pk, Decimal("3.00"))]
    assert services.honour_list(2027, Volunteer.objects.all()) == []


def test_postgresql_refuses_a_transfer_that_does_not_balance_at_commit(site, done):
    """A movement written past ``ledger.post`` (raw SQL) that unbalances its transfer fails the deferred check."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no deferred constraint triggers: ledger.post is the check there")
    t = services.verify(site.worker, done)
    account = t.movements.first().account_id
    with pytest.raises(DatabaseError, match="does not balance"):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("INSERT INTO volunteers_movement (transfer_id, account_id, unit, amount) "
                        "VALUES (%s, %s, 'hours', 1)", [t.pk, account])
            cur.execute("SET CONSTRAINTS volunteers_movement_balanced IMMEDIATE")
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET CONSTRAINTS volunteers_movement_balanced IMMEDIATE")  # the balanced ones pass
    assert Movement.objects.filter(transfer=t).count() == 4


def test_the_benchmark_helper_makes_verified_shifts_and_can_run_again(site):
    assert services.seed_verified_shifts(6, grid=site.grid) == 6
    assert services.seed_verified_shifts(6, grid=site.grid) == 6
    figures = ledger.balance_figures()
    assert figures["transfers"] == 12 and figures["ledger_balance"] == 0
