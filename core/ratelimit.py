"""One rate limiter for every app: sliding windows counted over the rows an app already keeps.

Each limited action leaves a row with a time (a login failure in the audit, a phone code challenge, a resident's
report). A ``Window`` says how many such rows a key (a phone's blind index, a client address) may have within a
period; ``check(rows, "created_at", window, ...)`` counts them and raises ``RateLimited`` with the window's
message in Chinese and the seconds until the oldest counted row leaves the window. Nothing is stored beside the
app's own rows, so the limits hold across processes and restarts and cost no cache.

A message may use ``%(n)d`` (the limit), ``%(s)d`` (seconds to wait) and ``%(m)d`` (minutes to wait, at least 1).
``serialise(namespace, key)`` makes two requests for the same key wait for each other inside their transactions
(a PostgreSQL advisory lock; SQLite writes one at a time), so a limit cannot be passed twice at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

__all__ = ["RateLimited", "Window", "check", "exceeded", "serialise"]


class RateLimited(Exception):
    """A limit was reached; ``str(exc)`` / ``message`` is the reason in Chinese, ``retry_after`` the seconds."""

    def __init__(self, message: str, retry_after: int = 60) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


@dataclass(frozen=True)
class Window:
    limit: int
    period: dt.timedelta
    message: str = ""  # gettext_lazy text; formatted with n, s, m when the limit is reached


def exceeded(rows: QuerySet, time_field: str, window: Window, now: dt.datetime | None = None) -> int | None:
    """None while ``rows`` hold fewer than ``window.limit`` entries in the window ending ``now``; else the seconds
    until one more is allowed."""
    now = now or timezone.now()
    recent = rows.filter(**{f"{time_field}__gt": now - window.period})
    count = recent.count()
    if count < window.limit:
        return None
    # One more is allowed once (count - limit + 1) rows have left the window: wait for the one at that rank.
    leaving = recent.order_by(time_field).values_list(time_field, flat=True)[count - window.limit]
    return max(1, int((leaving + window.period - now).total_seconds()) + 1)


def check(rows: QuerySet, time_field: str, *windows: Window, now: dt.datetime | None = None) -> None:
    """Raise ``RateLimited`` for the first of ``windows`` that ``rows`` have reached."""
    now = now or timezone.now()
    for window in windows:
        wait = exceeded(rows, time_field, window, now)
        if wait is not None:
            message = str(window.message) % {"n": window.limit, "s": wait, "m": max(1, wait // 60)}
            raise RateLimited(message, wait)


def serialise(namespace: str, key: str) -> None:
    """Inside a transaction: wait for any other transaction holding the same ``namespace``/``key``."""
    if connection.vendor != "postgresql":
        return
    digest = hashlib.sha256(f"{namespace}\x00{key}".encode()).digest()
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest[:8], "big", signed=True)])
