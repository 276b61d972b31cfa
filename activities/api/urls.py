from rest_framework.routers import DefaultRouter

from activities.api import views

router = DefaultRouter()
router.register("activities", views.ActivityViewSet)
router.register("sessions", views.SessionViewSet)
router.register("signups", views.SignUpViewSet)
urlpatterns = [*router.urls]
