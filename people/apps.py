from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "people"
    verbose_name = _("人口")

    def ready(self) -> None:
        from people.services import follow_place_move
        from places.services import ancestors_changed

        ancestors_changed.connect(follow_place_move, dispatch_uid="people.follow_place_move")

        from core.workers import task_lost
        from people.tasks import import_job_lost

        task_lost.connect(import_job_lost, dispatch_uid="people.import_job_lost")

        from django.urls import reverse

        from core.exports import register

        # The export button on these lists (people/exporter.py writes each of them).
        for kind in ("person", "house", "community", "grid", "compound", "building", "enterprise"):
            register(kind, lambda kind=kind: f"{reverse('people:export')}?kind={kind}", "people.export_person")
