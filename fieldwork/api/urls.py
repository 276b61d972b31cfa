from rest_framework.routers import DefaultRouter

from fieldwork.api import views

router = DefaultRouter()
router.register("visits", views.VisitViewSet)
router.register("changes", views.ChangeRequestViewSet)
urlpatterns = router.urls
