from rest_framework.routers import DefaultRouter

from resources.api import views

router = DefaultRouter()
router.register("resources", views.ResourceViewSet)
router.register("bookings", views.BookingViewSet)
router.register("my-bookings", views.MyBookingViewSet, basename="my-booking")
urlpatterns = [*router.urls]
