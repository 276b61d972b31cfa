"""One router for the whole API; each app registers its viewsets in its api/urls.py."""
from django.urls import include, path

urlpatterns = [
    path("places/", include("places.api.urls")),
    path("people/", include("people.api.urls")),
]
