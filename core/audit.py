"""Write audit events. Every module calls ``audit.record``; nothing else writes AuditEvent rows.

Rows are hash-chained: ``hash = sha256(prev_hash | canonical JSON of the row)``. ``verify_chain`` walks
the table and reports the first row whose hash does not match (a manual edit, a deleted row).
Writers serialise on the chain head: PostgreSQL takes a transaction-level advisory lock; SQLite runs
every transaction as BEGIN IMMEDIATE (settings), which already holds the single write lock.
"""

from __future__ import annotations

import hashlib
import json

from django.db import connection, transaction
from django.utils import timezone

from core.middleware import current_request
from core.models import AuditEvent
from core.scope import scope_for

__all__ = ["client_ip", "record", "row_digest", "verify_chain"]

_CHAIN_LOCK_ID = 7_226_011  # arbitrary constant for pg_advisory_xact_lock


def client_ip(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def row_digest(prev_hash: str, ev: AuditEvent) -> str:
    payload = json.dumps({
        "at": ev.at.isoformat(), "user_id": ev.user_id, "username": ev.username, "role": ev.role,
        "action": ev.action, "object_type": ev.object_type, "object_id": ev.object_id, "place": ev.place,
        "fields": ev.fields, "changes": ev.changes, "result": ev.result, "ip": ev.ip,
        "request_id": ev.request_id, "purpose": ev.purpose,
    }, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(f"{prev_hash}|{payload}".encode()).hexdigest()


def record(action: str, obj=None, *, request=None, user=None, object_type: str = "", object_id: str = "",
           place: str = "", fields: list[str] | None = None, changes: dict | None = None, result: str = "ok",
           purpose: str = "", username: str = "") -> AuditEvent:
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
        ip=client_ip(request), request_id=getattr(request, "id", "") if request is not None else "",
        purpose=purpose[:300],
    )
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_ID])
        prev = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first() or ""
        ev.prev_hash = prev
        ev.hash = row_digest(prev, ev)
        ev.save(force_insert=True)
    return ev


def verify_chain(batch: int = 5000) -> tuple[bool, int | None, int]:
    """Walk the chain in id order. Returns (ok, id of the first bad row or None, rows checked)."""
    prev = ""
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
