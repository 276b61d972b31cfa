from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "people"
    verbose_name = _("人口")

    def ready(self) -> None:
        from people.services import follow_place_move
        from places.services import ancestors_changed

        ancestors_changed.connect(follow_place_move, dispatch_uid="people.follow_place_move")
