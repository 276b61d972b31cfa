"""The registry's part of the API alone (places and people), for the schema test."""
from django.urls import include, path

urlpatterns = [
    path("api/places/", include(("places.api.urls", "places-api"))),
    path("api/people/", include(("people.api.urls", "people-api"))),
]
