from django.urls import path

from resources import views

app_name = "resources"
urlpatterns = [
    # residents and employees (a phone)
    path("", views.BrowseView.as_view(), name="browse"),
    path("book/<int:pk>/", views.DayView.as_view(), name="day"),
    path("book/<int:pk>/new/", views.BookView.as_view(), name="book"),
    path("mine/", views.MineView.as_view(), name="mine"),
    path("mine/<int:pk>/cancel/", views.CancelView.as_view(), name="cancel"),
    path("checkin/<str:token>/", views.CheckInView.as_view(), name="checkin"),
    # staff
    path("staff/", views.StaffListView.as_view(), name="staff"),
    path("staff/<int:pk>/", views.WeekView.as_view(), name="resource"),
    path("staff/<int:pk>/sheet/", views.SheetView.as_view(), name="sheet"),
    path("staff/pending/", views.PendingView.as_view(), name="pending"),
    path("staff/bookings/<int:pk>/<str:decision>/", views.DecideView.as_view(), name="decide"),
    path("staff/plate/", views.PlateView.as_view(), name="plate"),
]
