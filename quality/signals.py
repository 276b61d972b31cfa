"""Keep statuses fresh when the registry changes: places and people know nothing of quality, quality listens.

* A residence opened or closed, a person or a house saved: the house (and the person) is marked and refreshed
  once when the transaction commits (quality.engine.mark_houses → refresh_houses: the cheap per-house path).
* A residence registered through a form, an import or the API stamps its house as verified by that method;
  a person saved by a logged-in user through a page or the API stamps that person ("form" / "api").
"""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

STAMPED_SOURCES = {"form": "form", "import": "import", "api": "api", "visit": "visit", "feedback": "feedback"}


def _request_user_and_method():
    from core.middleware import current_request

    request = current_request()
    user = getattr(request, "user", None) if request is not None else None
    if user is None or not getattr(user, "is_authenticated", False):
        return None, None
    return user, "api" if request.path.startswith("/api/") else "form"


@receiver(post_save, sender="people.Residence", dispatch_uid="quality.residence_saved")
def residence_saved(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    from quality import engine

    engine.mark_houses([instance.house_id], [instance.person_id])
    method = STAMPED_SOURCES.get(instance.source)
    if created and method:
        from django.db import transaction

        user, _ = _request_user_and_method()
        by = user.pk if user is not None else None
        hid, pid, at = instance.house_id, instance.person_id, instance.updated_at
        transaction.on_commit(lambda: (engine.stamp_houses([hid], at, method, by),
                                       engine.stamp_persons([pid], at, method, by)))


@receiver(post_save, sender="people.Person", dispatch_uid="quality.person_saved")
def person_saved(sender, instance, raw=False, **kwargs):
    if raw:
        return
    from people.models import Residence
    from quality import engine

    houses = list(Residence.objects.filter(person_id=instance.pk, moved_out__isnull=True)
                  .values_list("house_id", flat=True))
    engine.mark_houses(houses, [instance.pk])
    user, method = _request_user_and_method()
    if user is not None:
        engine.stamp_persons([instance.pk], instance.updated_at, method, user.pk)


@receiver(post_save, sender="places.House", dispatch_uid="quality.house_saved")
def house_saved(sender, instance, raw=False, **kwargs):
    if raw:
        return
    from quality import engine

    engine.mark_houses([instance.pk])


@receiver(post_save, sender="core.AuditEvent", dispatch_uid="quality.audit_recorded")
def audit_recorded(sender, instance, created, raw=False, **kwargs):
    """A move-out is a conditional UPDATE (no post_save of the residence): its audit line names the residence."""
    if raw or not created or instance.action != "move_out" or instance.object_type != "people.residence":
        return
    from people.models import Residence
    from quality import engine

    row = Residence.objects.filter(pk=instance.object_id).values_list("house_id", "person_id").first()
    if row is not None:
        engine.mark_houses([row[0]], [row[1]])


def import_findings(sender, findings, **kwargs):
    """An import left a person's invalid phone empty (people.importer): one open issue each, in the import's
    transaction; recompute keeps it open while the phone is still empty and resolves it once it is registered."""
    from django.utils import timezone

    from places.models import House
    from quality.models import QualityIssue

    now = timezone.now()
    houses = {h.pk: h for h in House.objects.filter(pk__in={f[1] for f in findings if f[1]})}
    rows = []
    for person_id, house_id, _field, row in findings:
        h = houses.get(house_id)
        rows.append(QualityIssue(
            rule="import_phone_dropped", subject=f"0:{person_id}", person_id=person_id, house_id=house_id,
            street_id=h.street_id if h else None, community_id=h.community_id if h else None,
            grid_id=h.grid_id if h else None, building_id=h.building_id if h else None,
            detail=f"导入表格第{row}行", found_at=now))
    QualityIssue.objects.bulk_create(rows, ignore_conflicts=True)


def _connect() -> None:
    from people.signals import import_committed

    import_committed.connect(import_findings, dispatch_uid="quality.import_findings")


_connect()
