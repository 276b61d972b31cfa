"""Mark the building of a changed house dirty, so that the next rollup refresh (every 30 seconds) recomputes it
and its ancestors. The cockpit imports neither people nor any app above places: it listens by model label.

* places.House saved → its building (and the previous building when the house moved);
* people.Residence saved or deleted → the house's building;
* people.Person / people.PersonTag saved or deleted → the buildings the person currently lives in;
* core.AuditEvent of a write on a residence (``move_out`` updates the row without saving the model) → its house;
  on a person (``save_person`` writes the tags with bulk_create) → where the person lives.
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from cockpit.registry import mark_dirty, mark_dirty_house
from places.models import House

WRITE_ACTIONS = {"create", "update", "move_in", "move_out", "delete"}


def _mark_person(person_id) -> None:
    if person_id is None:
        return
    for building_id in set(House.objects.filter(residences__person_id=person_id, residences__moved_out__isnull=True)
                           .values_list("building_id", flat=True)):
        mark_dirty("building", building_id)


@receiver(post_save, sender="places.House", dispatch_uid="cockpit.house_saved")
def house_saved(sender, instance, **kwargs):
    mark_dirty("building", instance.building_id)


@receiver(post_save, sender="people.Residence", dispatch_uid="cockpit.residence_saved")
@receiver(post_delete, sender="people.Residence", dispatch_uid="cockpit.residence_deleted")
def residence_changed(sender, instance, **kwargs):
    mark_dirty_house(instance.house_id)


@receiver(post_save, sender="people.Person", dispatch_uid="cockpit.person_saved")
def person_saved(sender, instance, **kwargs):
    _mark_person(instance.pk)


@receiver(post_save, sender="people.PersonTag", dispatch_uid="cockpit.persontag_saved")
@receiver(post_delete, sender="people.PersonTag", dispatch_uid="cockpit.persontag_deleted")
def person_tag_changed(sender, instance, **kwargs):
    _mark_person(instance.person_id)


@receiver(post_save, sender="core.AuditEvent", dispatch_uid="cockpit.audit_write")
def audit_write(sender, instance, created, **kwargs):
    if not created or instance.action not in WRITE_ACTIONS or instance.result != "ok":
        return
    if instance.object_type == "people.residence" and instance.object_id.isdigit():
        building_id = (House.objects.filter(residences__id=int(instance.object_id))
                       .values_list("building_id", flat=True).first())
        if building_id is not None:
            mark_dirty("building", building_id)
    elif instance.object_type == "people.person" and instance.object_id.isdigit():
        _mark_person(int(instance.object_id))  # tags written with bulk_create, before the person's audit
