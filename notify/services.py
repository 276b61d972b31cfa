"""``notify(users, ...)``: one inbox entry per user, idempotent per ``dedupe_key`` (the contract of session 3)."""
from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone

from notify.models import Notification

__all__ = ["mark_all_read", "mark_read", "notify", "unread_count"]


def _as_users(users) -> list:
    if users is None:
        return []
    if hasattr(users, "pk") and not isinstance(users, Iterable):
        return [users]
    seen, out = set(), []
    for u in users:
        if u is not None and u.pk not in seen:
            seen.add(u.pk)
            out.append(u)
    return out


def notify(users, *, title: str, body: str = "", url: str = "", kind: str = "info",
           dedupe_key: str | None = None) -> list[Notification]:
    """Add an inbox entry for each user. With a ``dedupe_key``, a user who already has an entry with that key
    gets no second one (the database enforces it, so concurrent calls are safe). Returns the entries created."""
    targets = _as_users(users)
    if not targets:
        return []
    key = dedupe_key or None
    if key is not None:
        have = set(Notification.objects.filter(user__in=[u.pk for u in targets], dedupe_key=key)
                   .values_list("user_id", flat=True))
        targets = [u for u in targets if u.pk not in have]
    created = []
    for u in targets:
        n = Notification(user=u, title=str(title)[:200], body=str(body), url=str(url)[:500], kind=kind,
                         dedupe_key=key)
        if key is None:
            created.append(n)
            continue
        try:
            with transaction.atomic():
                n.save()
            created.append(n)
        except IntegrityError:  # another process added the same entry meanwhile
            continue
    if key is None and created:
        created = Notification.objects.bulk_create(created)
    return created


def unread_count(user) -> int:
    return Notification.objects.for_user(user).unread().count()


def mark_read(user, ids: Iterable[int]) -> int:
    """Mark the user's own entries read (ids of other users' entries change nothing)."""
    return (Notification.objects.for_user(user).unread().filter(pk__in=list(ids))
            .update(read_at=timezone.now()))


def mark_all_read(user) -> int:
    return Notification.objects.for_user(user).unread().update(read_at=timezone.now())
