from rest_framework.routers import DefaultRouter

from people.api import views

router = DefaultRouter()
router.register("persons", views.PersonViewSet)
router.register("residences", views.ResidenceViewSet)
router.register("enterprises", views.EnterpriseViewSet)
router.register("tags", views.TagViewSet)
urlpatterns = router.urls
