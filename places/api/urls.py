from rest_framework.routers import DefaultRouter

from places.api import views

router = DefaultRouter()
router.register("streets", views.StreetViewSet)
router.register("communities", views.CommunityViewSet)
router.register("grids", views.GridViewSet)
router.register("compounds", views.CompoundViewSet)
router.register("buildings", views.BuildingViewSet)
router.register("houses", views.HouseViewSet)
urlpatterns = router.urls
