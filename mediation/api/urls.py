from rest_framework.routers import DefaultRouter

from mediation.api import views

router = DefaultRouter()
router.register("mediations", views.MediationViewSet)
urlpatterns = router.urls
