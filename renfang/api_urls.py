"""The API: each app registers its viewsets in its api/urls.py; /api/schema/ and /api/docs/ are in renfang/urls.py."""
from django.urls import include, path

urlpatterns = [
    path("places/", include(("places.api.urls", "places-api"))),
    path("people/", include(("people.api.urls", "people-api"))),
    path("circle/", include(("circle.api.urls", "circle-api"))),
    path("quality/", include(("quality.api.urls", "quality-api"))),
    path("fieldwork/", include(("fieldwork.api.urls", "fieldwork-api"))),
    path("cockpit/", include(("cockpit.api.urls", "cockpit-api"))),
    path("cases/", include(("cases.api.urls", "cases-api"))),
    path("mediation/", include(("mediation.api.urls", "mediation-api"))),
    path("resources/", include(("resources.api.urls", "resources-api"))),
    path("activities/", include(("activities.api.urls", "activities-api"))),
    path("volunteers/", include(("volunteers.api.urls", "volunteers-api"))),
    path("meetings/", include(("meetings.api.urls", "meetings-api"))),
]
