from rest_framework.routers import DefaultRouter

from meetings.api import views

router = DefaultRouter()
router.register("organisations", views.OrganisationViewSet)
router.register("meetings", views.MeetingViewSet)
router.register("resolutions", views.ResolutionViewSet)
router.register("needs", views.NeedViewSet)
router.register("services", views.GovServiceViewSet)
urlpatterns = [*router.urls]
