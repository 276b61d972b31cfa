from rest_framework.routers import DefaultRouter

from volunteers.api import views

router = DefaultRouter()
router.register("volunteers", views.VolunteerViewSet)
router.register("teams", views.TeamViewSet)
router.register("shifts", views.ShiftViewSet)
router.register("signups", views.SignupViewSet)
urlpatterns = [*router.urls]
