"""The API: each app registers its viewsets in its api/urls.py; /api/schema/ and /api/docs/ are in renfang/urls.py."""
from django.urls import include, path

urlpatterns = [
    path("places/", include(("places.api.urls", "places-api"))),
    path("people/", include(("people.api.urls", "people-api"))),
    path("circle/", include(("circle.api.urls", "circle-api"))),
]
