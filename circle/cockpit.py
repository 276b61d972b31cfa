"""The circle on the boards: the cockpit's map shows the service facilities beside its own figures (cockpit never
imports circle; it calls ``register()`` of every app's ``cockpit.py`` when it starts)."""

from django.utils.translation import gettext_lazy as _


def register() -> None:
    from cockpit.registry import register_layer

    register_layer("circle.facilities", title=_("服务设施"), url_name="circle:facilities_geojson", color="#2a9d8f",
                   shown=False)
