"""Keep the stored figures current when the registry changes under them: a compound moved (its coordinates)
or a residence opened or closed (the populations). places and people know nothing of circle: circle listens.
Each change queues one recompute after commit; queued jobs coalesce (circle.tasks)."""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver


@receiver(post_save, sender="places.Compound", dispatch_uid="circle.compound_saved")
def compound_saved(sender, instance, created, update_fields=None, **kwargs):
    if update_fields is not None and not {"lat", "lng"} & set(update_fields):
        return
    from circle.services import _schedule_recompute

    _schedule_recompute()


@receiver(post_save, sender="people.Residence", dispatch_uid="circle.residence_saved")
def residence_saved(sender, instance, **kwargs):
    from circle.services import _schedule_recompute

    _schedule_recompute()
