from django.urls import path
from rest_framework.routers import DefaultRouter

from circle.api import views

router = DefaultRouter()
router.register("facilities", views.FacilityViewSet)
router.register("categories", views.CategoryViewSet)
router.register("access", views.AccessViewSet)
urlpatterns = [path("coverage/", views.CoverageView.as_view(), name="coverage"), *router.urls]
