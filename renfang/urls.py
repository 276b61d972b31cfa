from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core.views import HomeView, healthz
from fieldwork import pwa

urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("healthz/", healthz, name="healthz"),
    # The grid worker's installable workbench: at the root so that the service worker's scope is the whole site.
    path("sw.js", pwa.service_worker, name="service_worker"),
    path("manifest.webmanifest", pwa.manifest, name="webmanifest"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("access/", include("access.urls")),
    path("places/", include("places.urls")),
    path("people/", include("people.urls")),
    path("circle/", include("circle.urls")),
    path("quality/", include("quality.urls")),
    path("fieldwork/", include("fieldwork.urls")),
    path("notify/", include("notify.urls")),
    path("feedback/", include("feedback.urls")),
    path("cockpit/", include("cockpit.urls")),
    path("cases/", include("cases.urls")),
    path("mediation/", include("mediation.urls")),
    path("open311/", include("open311.urls")),
    path("resources/", include("resources.urls")),
    path("activities/", include("activities.urls")),
    path("volunteers/", include("volunteers.urls")),
    path("meetings/", include("meetings.urls")),
    path("api/", include("renfang.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file: the Content-Security-Policy allows no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
