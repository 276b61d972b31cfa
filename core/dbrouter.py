"""Read replicas: the read-heavy pages read from a streaming replica, everything else from the primary.

``DATABASE_REPLICA_URL`` adds the ``replica`` database (settings). Without it this module does nothing.

* A request may read from the replica only when all of these hold: it is a safe method (GET/HEAD/OPTIONS); its
  view opted in (its URL namespace is in ``RENFANG_REPLICA_NAMESPACES`` — the cockpit, the service circle — or the
  view is marked with :func:`replica_reads`: exports, figures); nothing was written yet in this request; no
  transaction is open on the primary; the replica answers and lags at most ``RENFANG_REPLICA_MAX_LAG`` seconds;
  and the browser did not write recently.
* Read-after-write: every response to a write (a non-safe method, or a request that wrote anything) sets a signed
  cookie holding the primary's WAL position after that write. While it is there (``RENFANG_REPLICA_PIN_SECONDS``
  at most) the browser reads from the replica only once the replica has replayed that position.
* Writes always go to the primary, migrations run only there.
* The replica's state (lag, replay position, or the error) is measured with one query and trusted for
  ``RENFANG_REPLICA_CHECK_SECONDS``: a replica that is down or too far behind is not used, and a read that fails on
  it (the replica died in between) is run again on the primary (``ReplicaMiddleware.process_exception``). A read
  never fails because the replica is gone.
"""

from __future__ import annotations

import contextvars
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.utils import InterfaceError, OperationalError

__all__ = [
    "REPLICA",
    "ReplicaMiddleware",
    "ReplicaRouter",
    "ReplicaStatus",
    "configured",
    "forget_status",
    "replica_reads",
    "shows_lag",
    "status",
]

REPLICA = "replica"
PIN_COOKIE = "rf_primary"
_PIN_SALT = "renfang.dbrouter.pin"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_eligible: contextvars.ContextVar[bool] = contextvars.ContextVar("renfang_replica_eligible", default=False)
_wrote: contextvars.ContextVar[bool] = contextvars.ContextVar("renfang_replica_wrote", default=False)
_used: contextvars.ContextVar[bool] = contextvars.ContextVar("renfang_replica_used", default=False)
_pin: contextvars.ContextVar[int | None] = contextvars.ContextVar("renfang_replica_pin", default=None)

# The replica's lag in seconds: 0 when it has replayed all it received (an idle primary writes nothing, so the
# time since the last replayed transaction would grow without any lag); NULL when it never replayed one.
LAG_SQL = """
SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0
            WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
            ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END,
       pg_last_wal_replay_lsn()::text
"""


def configured() -> bool:
    return REPLICA in connections.settings


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def lsn(text: str | None) -> int | None:
    """A WAL position (``16/B374D848``) as one integer, comparable."""
    if not text:
        return None
    hi, _sep, lo = text.partition("/")
    return (int(hi, 16) << 32) + int(lo, 16)


@dataclass(frozen=True)
class ReplicaStatus:
    configured: bool
    reachable: bool = False
    lag_s: float | None = None
    replay_lsn: int | None = None
    error: str = ""

    @property
    def usable(self) -> bool:
        return (
            self.configured
            and self.reachable
            and self.lag_s is not None
            and self.lag_s <= _setting("RENFANG_REPLICA_MAX_LAG", 30)
        )

    def as_dict(self) -> dict:
        return {
            "configured": self.configured,
            "reachable": self.reachable,
            "lag_s": None if self.lag_s is None else round(self.lag_s, 1),
            "used": self.usable,
            "max_lag_s": _setting("RENFANG_REPLICA_MAX_LAG", 30),
            "error": self.error,
        }


_cache: dict = {"at": -1e9, "status": None}
_cache_lock = threading.Lock()


def forget_status() -> None:
    """Measure again at the next read (tests; after a failover)."""
    with _cache_lock:
        _cache.update(at=-1e9, status=None)


def _measure() -> ReplicaStatus:
    conn = connections[REPLICA]
    try:
        with conn.cursor() as cur:
            cur.execute(LAG_SQL)
            lag, replay = cur.fetchone()
    except (DatabaseError, InterfaceError) as exc:
        try:
            conn.close()
        except DatabaseError:
            pass
        text = str(exc).strip()
        return ReplicaStatus(True, False, error=text.splitlines()[0][:200] if text else type(exc).__name__)
    return ReplicaStatus(True, True, None if lag is None else max(float(lag), 0.0), lsn(replay))


def status(*, fresh: bool = False) -> ReplicaStatus:
    """The replica's state, measured at most every ``RENFANG_REPLICA_CHECK_SECONDS`` in this process."""
    if not configured():
        return ReplicaStatus(False)
    now = time.monotonic()
    with _cache_lock:
        cached = _cache["status"]
        if not fresh and cached is not None and now - _cache["at"] < _setting("RENFANG_REPLICA_CHECK_SECONDS", 5):
            return cached
    measured = _measure()
    with _cache_lock:
        _cache.update(at=time.monotonic(), status=measured)
    return measured


def _mark_down(error: str) -> None:
    with _cache_lock:
        _cache.update(at=time.monotonic(), status=ReplicaStatus(True, False, error=error[:200]))


class ReplicaRouter:
    """``DATABASE_ROUTERS``: a no-op without a replica (every method answers None)."""

    def db_for_read(self, model, **hints):
        if not configured():
            return None
        if not _eligible.get() or _wrote.get() or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        current = status()
        if not current.usable:
            return DEFAULT_DB_ALIAS
        pin = _pin.get()
        if pin is not None and (current.replay_lsn is None or current.replay_lsn < pin):
            return DEFAULT_DB_ALIAS  # this browser wrote what the replica has not replayed yet
        _used.set(True)
        return REPLICA

    def db_for_write(self, model, **hints):
        if not configured():
            return None
        _wrote.set(True)  # from here on this request reads its own writes: the primary
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True if configured() else None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if db == REPLICA:
            return False
        return None


def replica_reads(view):
    """Mark a view (function, or class-based view's class) as one whose GETs may read from the replica."""
    view.replica_reads = True
    return view


def _opted_in(request, view_func) -> bool:
    if getattr(view_func, "replica_reads", False) or getattr(
        getattr(view_func, "view_class", None), "replica_reads", False
    ):
        return True
    match = getattr(request, "resolver_match", None)
    namespaces = set(getattr(settings, "RENFANG_REPLICA_NAMESPACES", ()))
    return bool(match and namespaces.intersection(match.namespaces))


class ReplicaMiddleware:
    """Sets the request's routing (above) and the read-after-write cookie; retries a read the replica dropped."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if not configured():
            return self.get_response(request)
        pin_age = _setting("RENFANG_REPLICA_PIN_SECONDS", 60)
        pinned = request.get_signed_cookie(PIN_COOKIE, default=None, salt=_PIN_SALT, max_age=pin_age)
        tokens = [
            (_eligible, _eligible.set(False)),
            (_wrote, _wrote.set(False)),
            (_used, _used.set(False)),
            (_pin, _pin.set(lsn(pinned) if pinned else None)),
        ]
        try:
            response = self.get_response(request)
            if request.method not in SAFE_METHODS or _wrote.get():
                position = _primary_position()
                if position:
                    response.set_signed_cookie(
                        PIN_COOKIE,
                        position,
                        salt=_PIN_SALT,
                        max_age=int(pin_age),
                        httponly=True,
                        samesite="Lax",
                        secure=getattr(settings, "SESSION_COOKIE_SECURE", False),
                    )
            return response
        finally:
            for var, token in reversed(tokens):
                var.reset(token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if configured() and request.method in SAFE_METHODS and _opted_in(request, view_func):
            _eligible.set(True)
            request._replica_view = (view_func, view_args, view_kwargs)
        return None

    def process_exception(self, request, exception):
        """The replica dropped the connection in the middle of a read: mark it down, run the view on the primary."""
        if not (
            _used.get()
            and isinstance(exception, (OperationalError, InterfaceError))
            and getattr(request, "_replica_view", None)
        ):
            return None
        _mark_down(str(exception))
        try:
            connections[REPLICA].close()
        except DatabaseError:
            pass
        _eligible.set(False)
        view_func, args, kwargs = request._replica_view
        response = view_func(request, *args, **kwargs)
        if callable(getattr(response, "render", None)):
            response = response.render()
        return response


def _primary_position() -> str | None:
    conn = connections[DEFAULT_DB_ALIAS]
    if conn.vendor != "postgresql":
        return None
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_current_wal_lsn()::text")
            return cur.fetchone()[0]
    except DatabaseError:
        return None


LAG_PERM = "auth.view_user"  # the system administrators'


def shows_lag(user) -> bool:
    """Staff and system administrators see the replica's lag on the boards."""
    if not configured() or not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff or user.is_superuser:
        return True
    from core.scope import scope_for

    return scope_for(user).has(LAG_PERM)
