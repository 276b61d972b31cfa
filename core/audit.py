"""Write audit events. Every module calls ``audit.record``; nothing else writes AuditEvent rows.

Rows are hash-chained: ``hash = sha256(prev_hash | canonical JSON of the row)``. ``verify_chain`` walks
the table and reports the first row whose hash does not match (a manual edit, a deleted row).
Writers serialise on the chain head: PostgreSQL takes a transaction-level advisory lock; SQLite runs
every transaction as BEGIN IMMEDIATE (settings), which already holds the single write lock.

``deferred()`` keeps a service's transaction from taking that lock early: inside the block ``record`` queues its
events, and the block's end writes them all, in order, under one acquisition of the lock, still inside the same
transaction (a committed change always has its rows; a rolled-back one, or one undone by a savepoint, has none).
The lock is then held only for the last statements and the commit, not for the rest of the service's work.

The table is append-only in the database too (core/db_guards.py). ``purge`` is the one exception: it
deletes the oldest rows, never one younger than the retention period, and writes a ``purge`` event that
names the new oldest row and its ``prev_hash``: ``verify_chain`` starts from that anchor.

Helpers for views:
  ``record_view(request, obj)``      a person's or a house's detail page was seen;
  ``require_reason(request, obj)``   None, or a redirect to the reason form for an aggregate-only user
                                     ("break the glass", once per session per object);
  ``record_search(request, fields, count)``  a search by a personal number (ID, phone);
  ``api_reason(request, obj)``       the API's break the glass (header ``X-Access-Reason``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from contextlib import contextmanager
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connection, connections, router, transaction
from django.db.models.signals import post_save
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.middleware import current_request
from core.models import AuditEvent
from core.scope import needs_reason, scope_for

__all__ = ["API_REASON_HEADER", "ListTarget", "MIN_RETENTION_DAYS", "REASON_SESSION_KEY", "api_list_reason",
           "api_reason", "client_ip", "deferred", "give_reason", "object_label", "purge", "reason_for", "record",
           "record_search", "record_view", "require_list_reason", "require_reason", "retention_days", "row_digest",
           "verify_chain"]

_CHAIN_LOCK_ID = 7_226_011  # arbitrary constant for pg_advisory_xact_lock
MIN_RETENTION_DAYS = 180  # Cybersecurity Law Art. 21: at least six months
REASON_SESSION_KEY = "renfang_reasons"  # {"people.person:42": "<audit event id>"}; ids only, never values


def client_ip(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def _payload(ev: AuditEvent) -> str:
    return json.dumps({
        "at": ev.at.isoformat(), "user_id": ev.user_id, "username": ev.username, "role": ev.role,
        "action": ev.action, "object_type": ev.object_type, "object_id": ev.object_id, "place": ev.place,
        "fields": ev.fields, "changes": ev.changes, "result": ev.result, "ip": ev.ip,
        "request_id": ev.request_id, "purpose": ev.purpose,
    }, sort_keys=True, ensure_ascii=False, default=str)


def row_digest(prev_hash: str, ev: AuditEvent) -> str:
    return hashlib.sha256(f"{prev_hash}|{_payload(ev)}".encode()).hexdigest()


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_ID])


def _masked(text: str) -> str:
    """A reason typed by a user, with any phone or ID number in it masked: the trail keeps why, not the number
    (an append-only table cannot forget it later)."""
    if not text or not any(ch.isdigit() for ch in text):
        return text or ""
    from core.sealed import mask_text

    return mask_text(text)


def record(action: str, obj=None, *, request=None, user=None, object_type: str = "", object_id: str = "",
           place: str = "", fields: list[str] | None = None, changes: dict | None = None, result: str = "ok",
           purpose: str = "", username: str = "", defer: bool = True) -> AuditEvent:
    """Write one audit event (inside a ``deferred`` block: queue it for the block's end, unless ``defer=False``)."""
    request = request or current_request()
    if user is None and request is not None:
        user = getattr(request, "user", None)
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        place = place or getattr(obj, "audit_place", "") or ""
    ev = AuditEvent(
        at=timezone.now(),
        user_id=user.pk if authenticated else None,
        username=(user.get_username() if authenticated else username)[:150],
        role=scope_for(user).role_label[:200] if authenticated else "",
        action=action, object_type=object_type, object_id=str(object_id)[:64], place=str(place)[:200],
        fields=list(fields or []), changes=changes or {}, result=result,
        ip=client_ip(request), request_id=(getattr(request, "id", "") or "") if request is not None else "",
        purpose=_masked(purpose)[:300],
    )
    state = _state()
    if state.depth and connection.in_atomic_block:
        if defer:
            marker = _Queued(ev)
            transaction.on_commit(marker)  # Django drops it when a savepoint around this call is rolled back
            state.queue.append(marker)
            return ev
        _flush(state)  # what was queued before it comes first in the chain
    _write([ev])
    return ev


# --- deferral ------------------------------------------------------------------------------------------------------
class _Queued:
    """An event waiting for the end of its ``deferred`` block. It is also registered with ``on_commit`` (as a
    callable that does nothing) only so that Django's bookkeeping tells whether a savepoint enclosing the
    ``record`` call was rolled back since: then its marker is gone from the connection's list and the event is
    dropped with the change it described."""

    __slots__ = ("ev",)

    def __init__(self, ev: AuditEvent) -> None:
        self.ev = ev

    def __call__(self) -> None:
        return None


class _State:
    __slots__ = ("depth", "queue")

    def __init__(self) -> None:
        self.depth = 0
        self.queue: list[_Queued] = []


def _state() -> _State:
    conn = connections[DEFAULT_DB_ALIAS]
    state = conn.__dict__.get("_renfang_audit_deferral")
    if state is None:
        state = conn.__dict__["_renfang_audit_deferral"] = _State()
    return state


@contextmanager
def deferred():
    """A transaction (``transaction.atomic``) whose audit events are written at its end, under one acquisition of
    the chain's lock, in the order they were recorded.

    Nested blocks join the outermost one: their events are written when it ends. An exception leaving a block
    drops the events recorded inside it (its savepoint undid the change they describe), and so does a rolled-back
    savepoint inside the block. ``record`` returns the event unsaved (no ``pk`` yet) while it waits;
    ``record(..., defer=False)`` writes at once (after whatever was queued), for a caller that needs the id.
    Put it around a service's whole transaction: the lock is held from the write to the commit, so the write
    should be the last thing the transaction does."""
    state = _state()
    with transaction.atomic():
        mark = len(state.queue)
        state.depth += 1
        try:
            yield
            if state.depth == 1:
                _flush(state)
        except BaseException:
            del state.queue[mark:]
            raise
        finally:
            state.depth -= 1
            if state.depth == 0:
                state.queue.clear()


def _flush(state: _State) -> None:
    if not state.queue:
        return
    queued, state.queue[:] = list(state.queue), []
    ids = {id(m) for m in queued}
    alive = {id(func) for _sids, func, _robust in connection.run_on_commit if id(func) in ids}
    connection.run_on_commit = [entry for entry in connection.run_on_commit if id(entry[1]) not in ids]
    _write([m.ev for m in queued if id(m) in alive])


_COLUMNS = ("at", "user_id", "username", "role", "action", "object_type", "object_id", "place", "fields", "changes",
            "result", "ip", "request_id", "purpose")


def _write(events: list[AuditEvent]) -> None:
    """Chain and insert ``events`` in order under one acquisition of the lock, inside the caller's transaction
    without a savepoint of its own (a failed audit write fails the change it records)."""
    if not events:
        return
    # The raw statements below pass no router: tell it a write happens (the replica router then pins this
    # request, and the browser's next reads, to the primary).
    router.db_for_write(AuditEvent)
    with transaction.atomic(savepoint=False):
        _lock_chain()
        if len(events) == 1 and connection.vendor == "postgresql":
            _insert_one(events[0])
            return
        prev = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first() or ""
        for ev in events:
            ev.prev_hash = prev
            ev.hash = prev = row_digest(prev, ev)
        if len(events) == 1:
            events[0].save(force_insert=True)
            return
        AuditEvent.objects.bulk_create(events)  # ids in list order; the rows' signals sent as save() would
        for ev in events:
            _saved(ev)


def _saved(ev: AuditEvent) -> None:
    post_save.send(sender=AuditEvent, instance=ev, created=True, update_fields=None, raw=False,
                   using=connection.alias)


def _insert_one(ev: AuditEvent) -> None:
    """PostgreSQL, one event: the head's hash read and the row inserted by one statement (its snapshot is taken
    after the lock was granted, so it sees the previous writer's committed row), the digest computed by the
    database from the same canonical JSON and checked against Python's before the transaction goes on. One round
    trip fewer while the site-wide lock is held."""
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    fields = [AuditEvent._meta.get_field(name) for name in _COLUMNS]
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    params = [f.get_db_prep_save(getattr(ev, f.attname), connection) for f in fields]
    marks = ", ".join(["%s"] * len(fields))
    sql = (f"INSERT INTO {table} ({names}, prev_hash, hash) "
           f"SELECT {marks}, head.prev, encode(sha256(convert_to(head.prev || '|' || %s, 'UTF8')), 'hex') "
           f"FROM (SELECT COALESCE((SELECT hash FROM {table} ORDER BY id DESC LIMIT 1), '') AS prev) AS head "
           f"RETURNING id, prev_hash, hash")
    with connection.cursor() as cur:
        cur.execute(sql, [*params, _payload(ev)])
        ev.pk, ev.prev_hash, ev.hash = cur.fetchone()
    if ev.hash != row_digest(ev.prev_hash, ev):
        raise RuntimeError("audit: the database's digest of an event differs from row_digest")
    ev._state.adding, ev._state.db = False, connection.alias
    _saved(ev)


# --- helpers for views ------------------------------------------------------------------------------------------
def object_label(obj) -> str:
    return f"{obj._meta.label_lower}:{obj.pk}"


def reason_for(request, obj) -> str | None:
    """The audit event id of the reason stated for ``obj`` in this session, or None."""
    session = getattr(request, "session", None)
    if session is None:
        return None
    return (session.get(REASON_SESSION_KEY) or {}).get(object_label(obj))


def give_reason(request, obj, purpose: str) -> AuditEvent:
    """An aggregate-only user states why they open one record's detail ("break the glass"); audited."""
    purpose = (purpose or "").strip()
    if len(purpose) < 4:
        raise ValidationError({"purpose": [_("请填写查看个人明细的事由（至少4个字）")]})
    ev = record("break_glass", obj, request=request, purpose=purpose, defer=False)  # its id goes in the session
    reasons = dict(request.session.get(REASON_SESSION_KEY) or {})
    reasons[object_label(obj)] = str(ev.pk)
    request.session[REASON_SESSION_KEY] = reasons
    return ev


def require_reason(request, obj) -> HttpResponseRedirect | None:
    """Call in a personal-detail view after the scoped lookup: return its result when it is not None.

    ``None``: the user may see the detail (their role is not aggregate-only for this object, or they already
    stated a reason in this session). Otherwise a redirect to ``access:reason`` which asks for the reason,
    records it and comes back.
    """
    if not needs_reason(request.user, obj) or reason_for(request, obj):
        return None
    query = urlencode({"type": obj._meta.label_lower, "id": obj.pk, "next": request.get_full_path()})
    return HttpResponseRedirect(f"{reverse('access:reason')}?{query}")


API_REASON_HEADER = "X-Access-Reason"


def api_reason(request, obj) -> str:
    """The API's "break the glass": for an aggregate-only user the detail of ``obj`` needs a reason in the
    ``X-Access-Reason`` header (URL-encoded UTF-8, at least 4 characters), recorded as ``break_glass``.
    Returns the purpose ("" when none is needed); raises PermissionDenied (403) when it is missing."""
    if not needs_reason(request.user, obj):
        return ""
    return _header_reason(request, obj)


def _header_reason(request, obj) -> str:
    from urllib.parse import unquote

    from django.core.exceptions import PermissionDenied

    purpose = unquote(request.headers.get(API_REASON_HEADER, "")).strip()
    if len(purpose) < 4:
        raise PermissionDenied(_("您的角色只能查看汇总数据；查看个人明细请在 X-Access-Reason 头中说明事由"
                                 "（至少4个字）"))
    ev = record("break_glass", obj, request=request, purpose=purpose, defer=False)
    return f"break_glass:{ev.pk}"


class ListTarget:
    """A model's list of records as the object of a "break the glass" reason: an aggregate-only role (the
    command centre) sees names only after stating why, once per session per list (issue 3, point 1)."""

    pk = "list"

    def __init__(self, model) -> None:
        self.model = model
        self._meta = model._meta


def require_list_reason(request, model) -> HttpResponseRedirect | None:
    """Call first in a list view of personal records; return its result when it is not None."""
    if not needs_reason(request.user, model) or reason_for(request, ListTarget(model)):
        return None
    query = urlencode({"type": model._meta.label_lower, "id": "list", "next": request.get_full_path()})
    return HttpResponseRedirect(f"{reverse('access:reason')}?{query}")


def api_list_reason(request, model) -> str:
    """The API's list counterpart of ``api_reason``: X-Access-Reason for an aggregate-only role, or 403."""
    return _header_reason(request, ListTarget(model)) if needs_reason(request.user, model) else ""


def record_view(request, obj, fields: list[str] | None = None) -> AuditEvent:
    """A detail page of ``obj`` (a person, a house...) was shown to ``request.user``."""
    purpose = ""
    if reason_for(request, obj):
        purpose = f"break_glass:{reason_for(request, obj)}"
    return record("view", obj, request=request, fields=fields, purpose=purpose)


def record_search(request, fields: list[str], count: int, object_type: str = "people.person") -> AuditEvent:
    """A search by a personal number: which kind of number, how many rows matched; never the number."""
    return record("search", request=request, object_type=object_type, fields=fields,
                  changes={"matches": int(count)})


# --- retention -----------------------------------------------------------------------------------------------------
def retention_days() -> int:
    return max(int(getattr(settings, "RENFANG_AUDIT_RETENTION_DAYS", 365)), MIN_RETENTION_DAYS)


def purge(*, now: dt.datetime | None = None) -> int:
    """Delete audit rows older than the retention period (never fewer than 180 days). Returns the count.

    Only a prefix of the chain is ever deleted (rows older than the cutoff and older than every younger row),
    inside one transaction that opens the database guard for this statement alone and writes a ``purge``
    event naming the new anchor.
    """
    from core import db_guards

    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=retention_days())
    with transaction.atomic():
        _lock_chain()
        first_young = AuditEvent.objects.filter(at__gte=cutoff).order_by("id").values_list("id", flat=True).first()
        doomed = AuditEvent.objects.filter(at__lt=cutoff)
        if first_young is not None:
            doomed = doomed.filter(id__lt=first_young)
        last_doomed = doomed.order_by("-id").values_list("id", flat=True).first()
        deleted = 0
        if last_doomed is not None:
            before, after = db_guards.purge_bypass_statements(connection.vendor)
            with connection.cursor() as cur:
                for sql in before:
                    cur.execute(sql)
                cur.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE id <= %s AND at < %s",
                            [last_doomed, cutoff])
                deleted = cur.rowcount
                for sql in after:
                    cur.execute(sql)
        anchor = AuditEvent.objects.order_by("id").values("id", "prev_hash").first()
        record("purge", object_type="core.auditevent", username="system", user=None, request=None, defer=False,
               changes={"deleted": deleted, "cutoff": cutoff.isoformat(),
                        "anchor_id": anchor["id"] if anchor else None,
                        "anchor": anchor["prev_hash"] if anchor else ""})
    return deleted


def verify_chain(batch: int = 5000) -> tuple[bool, int | None, int]:
    """Walk the chain in id order. Returns (ok, id of the first bad row or None, rows checked).

    The chain starts from "" or, after a purge, from the anchor the latest ``purge`` event recorded: the
    oldest remaining row and its ``prev_hash``. Deleting the oldest rows by hand leaves a first row that no
    purge event names, and the check fails on it.
    """
    first = AuditEvent.objects.order_by("id").values("id", "prev_hash").first()
    if first is None:
        return True, None, 0
    prev = ""
    if first["prev_hash"]:
        last_purge = AuditEvent.objects.filter(action="purge").order_by("-id").values_list("changes", flat=True).first()
        if not last_purge or last_purge.get("anchor_id") != first["id"] \
                or last_purge.get("anchor") != first["prev_hash"]:
            return False, first["id"], 0
        prev = first["prev_hash"]
    checked = 0
    last_id = 0
    while True:
        rows = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch])
        if not rows:
            return True, None, checked
        for ev in rows:
            if ev.prev_hash != prev or row_digest(prev, ev) != ev.hash:
                return False, ev.id, checked
            prev = ev.hash
            checked += 1
            last_id = ev.id
