"""Working-day arithmetic across weekends, official holidays and the weekend days worked instead (调休)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cases import deadlines
from cases.deadlines import Calendar, add_working_days, deadline_for, resume_deadline, working_days_between

D = dt.date.fromisoformat
SH = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture
def cal2026(db) -> Calendar:
    """The calendar as the migration seeded it (the 2026 official holidays)."""
    deadlines.invalidate()
    return deadlines.calendar()


def test_a_plain_week_skips_the_weekend():
    cal = Calendar()
    assert add_working_days(D("2026-03-06"), 1, cal) == D("2026-03-09")  # Friday → Monday
    assert add_working_days(D("2026-03-07"), 1, cal) == D("2026-03-09")  # Saturday → Monday
    assert add_working_days(D("2026-03-02"), 5, cal) == D("2026-03-09")
    assert add_working_days(D("2026-03-02"), 0, cal) == D("2026-03-02")


def test_new_year_holiday_is_skipped_and_the_sunday_after_it_is_worked(cal2026):
    # 1-3 January off (Thursday to Saturday), Sunday 4 January is a workday (调休)
    assert add_working_days(D("2025-12-31"), 1, cal2026) == D("2026-01-04")
    assert add_working_days(D("2025-12-31"), 2, cal2026) == D("2026-01-05")


def test_spring_festival_counts_the_saturday_before_and_skips_nine_days(cal2026):
    assert add_working_days(D("2026-02-13"), 1, cal2026) == D("2026-02-14")  # Saturday worked
    assert add_working_days(D("2026-02-13"), 2, cal2026) == D("2026-02-24")  # 15-23 February off
    assert add_working_days(D("2026-02-27"), 1, cal2026) == D("2026-02-28")  # Saturday worked after it


def test_national_day_week_and_its_two_adjusted_workdays(cal2026):
    assert add_working_days(D("2026-09-19"), 1, cal2026) == D("2026-09-20")  # Sunday 20 September worked
    assert add_working_days(D("2026-09-30"), 1, cal2026) == D("2026-10-08")
    assert add_working_days(D("2026-10-09"), 1, cal2026) == D("2026-10-10")  # Saturday worked
    assert working_days_between(D("2026-09-30"), D("2026-10-08"), cal2026) == 1


def test_a_holiday_added_by_an_administrator_is_used_at_once(cal2026):
    from cases.models import Holiday

    assert add_working_days(D("2026-03-09"), 1, deadlines.calendar()) == D("2026-03-10")
    Holiday.objects.create(date=D("2026-03-10"), name="台风停工")
    assert add_working_days(D("2026-03-09"), 1, deadlines.calendar()) == D("2026-03-11")


def test_the_deadline_is_the_end_of_the_last_working_day_in_shanghai_time():
    start = dt.datetime(2026, 3, 6, 20, 0, tzinfo=SH)  # Friday evening
    due = deadline_for(start, 1, Calendar()).astimezone(SH)
    assert (due.date(), due.hour, due.minute) == (D("2026-03-09"), 23, 59)


def test_a_pause_moves_the_deadline_by_the_working_days_it_covered():
    cal = Calendar()
    deadline = dt.datetime(2026, 3, 13, 23, 59, 59, tzinfo=SH)  # Friday
    paused = dt.datetime(2026, 3, 9, 10, 0, tzinfo=SH)  # Monday
    resumed = dt.datetime(2026, 3, 11, 9, 0, tzinfo=SH)  # Wednesday: Tuesday and Wednesday covered
    assert resume_deadline(deadline, paused, resumed, cal).astimezone(SH).date() == D("2026-03-17")
    same_day = dt.datetime(2026, 3, 9, 16, 0, tzinfo=SH)
    assert resume_deadline(deadline, paused, same_day, cal) == deadline
    over_weekend = dt.datetime(2026, 3, 15, 9, 0, tzinfo=SH)  # Friday paused → Sunday resumed: one working day
    assert resume_deadline(deadline, dt.datetime(2026, 3, 12, 9, tzinfo=SH), over_weekend, cal) \
        .astimezone(SH).date() == D("2026-03-16")


def test_negative_days_are_refused():
    with pytest.raises(ValueError):
        add_working_days(D("2026-03-02"), -1, Calendar())


# --- properties, over random calendars -------------------------------------------------------------------------
days = st.dates(min_value=D("2025-01-01"), max_value=D("2027-12-31"))
calendars = st.dictionaries(days, st.booleans(), max_size=40).map(Calendar)


@settings(max_examples=200, deadline=None)
@given(start=days, n=st.integers(min_value=0, max_value=60), cal=calendars)
def test_adding_n_working_days_spans_exactly_n_working_days(start, n, cal):
    end = add_working_days(start, n, cal)
    assert working_days_between(start, end, cal) == n
    if n:
        assert cal.is_workday(end)
        assert end > start


@settings(max_examples=200, deadline=None)
@given(start=days, a=st.integers(min_value=0, max_value=30), b=st.integers(min_value=0, max_value=30),
       cal=calendars)
def test_adding_working_days_composes(start, a, b, cal):
    assert add_working_days(add_working_days(start, a, cal), b, cal) == add_working_days(start, a + b, cal)


@settings(max_examples=100, deadline=None)
@given(start=days, n=st.integers(min_value=1, max_value=30), cal=calendars)
def test_more_days_never_give_an_earlier_deadline(start, n, cal):
    assert add_working_days(start, n, cal) >= add_working_days(start, n - 1, cal)


# --- lateness as working time --------------------------------------------------------------------------------------
def test_working_time_skips_the_weekend_and_counts_a_worked_saturday():
    cal = Calendar({D("2026-10-10"): True})  # Saturday 10 October worked (调休)
    friday_end = dt.datetime(2026, 3, 13, 23, 59, 59, tzinfo=SH)
    monday_1am = dt.datetime(2026, 3, 16, 1, 0, 0, tzinfo=SH)
    assert deadlines.working_time_between(friday_end, monday_1am, cal) == dt.timedelta(hours=1, seconds=1)
    assert deadlines.working_time_between(monday_1am, friday_end, cal) == dt.timedelta(0)
    friday = dt.datetime(2026, 10, 9, 23, 0, tzinfo=SH)
    sunday = dt.datetime(2026, 10, 11, 12, 0, tzinfo=SH)
    assert deadlines.working_time_between(friday, sunday, cal) == dt.timedelta(hours=25)


def test_a_thursday_deadline_is_one_hour_late_at_one_on_friday_not_a_day():
    thursday_end = dt.datetime(2026, 3, 12, 23, 59, 59, tzinfo=SH)
    late = deadlines.working_time_between(thursday_end, thursday_end + dt.timedelta(hours=1), Calendar())
    assert late == dt.timedelta(hours=1)


@settings(max_examples=100, deadline=None)
@given(start=days, n=st.integers(min_value=0, max_value=20), cal=calendars)
def test_n_working_days_hold_n_times_24_hours_of_working_time(start, n, cal):
    begin = dt.datetime.combine(start, dt.time.min, tzinfo=SH)
    end = dt.datetime.combine(add_working_days(start, n, cal), dt.time.min, tzinfo=SH) + dt.timedelta(days=1)
    expected = n + (1 if cal.is_workday(start) else 0)
    assert deadlines.working_time_between(begin, end, cal) == dt.timedelta(days=expected)
