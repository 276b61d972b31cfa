"""Moments a date-sensitive test runs at, so that no test depends on the day or the hour it runs.

``at_moments`` parametrizes a test over them; each parameter carries a ``time_machine`` mark, so the clock is moved
(and keeps ticking) before any fixture runs::

    @at_moments()
    def test_something(moment, world): ...

The moments are local times in Asia/Shanghai: the last half hour of a Friday, the start of a Monday, New Year's Eve,
a Saturday that is a working day (调休, 10 October 2026 after the National Day week) and a plain day in 2027, a
year the holiday table does not hold yet.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

__all__ = ["MOMENTS", "SHANGHAI", "at_moments"]

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")

MOMENTS: dict[str, dt.datetime] = {
    "friday-2330": dt.datetime(2026, 3, 13, 23, 30, tzinfo=SHANGHAI),
    "monday-0800": dt.datetime(2026, 3, 16, 8, 0, tzinfo=SHANGHAI),
    "new-years-eve": dt.datetime(2026, 12, 31, 22, 0, tzinfo=SHANGHAI),
    "tiaoxiu-saturday": dt.datetime(2026, 10, 10, 10, 0, tzinfo=SHANGHAI),
    "in-2027": dt.datetime(2027, 3, 3, 10, 0, tzinfo=SHANGHAI),
}


def at_moments(*names: str):
    """Parametrize a test over the named moments (all of them by default); the test takes ``moment``."""
    chosen = names or tuple(MOMENTS)
    return pytest.mark.parametrize("moment", [
        pytest.param(MOMENTS[name], marks=pytest.mark.time_machine(MOMENTS[name]), id=name) for name in chosen])
