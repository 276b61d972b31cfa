from rest_framework.routers import DefaultRouter

from cases.api import views

router = DefaultRouter()
router.register("cases", views.CaseViewSet)
urlpatterns = [*router.urls]
