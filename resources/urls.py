from django.urls import path

from resources import feeds, views

app_name = "resources"
urlpatterns = [
    # residents and employees (a phone)
    path("", views.BrowseView.as_view(), name="browse"),
    path("book/<int:pk>/", views.DayView.as_view(), name="day"),
    path("book/<int:pk>/new/", views.BookView.as_view(), name="book"),
    path("book/<int:pk>/weekly/", views.SeriesView.as_view(), name="series"),
    path("mine/", views.MineView.as_view(), name="mine"),
    path("mine/<int:pk>/cancel/", views.CancelView.as_view(), name="cancel"),
    path("checkin/<str:token>/", views.CheckInView.as_view(), name="checkin"),
    path("phone/", views.PhoneView.as_view(), name="phone"),
    path("phone/choose/", views.PhoneChooseView.as_view(), name="phone_choose"),
    path("draws/<int:pk>/", views.DrawView.as_view(), name="draw"),
    path("draws/<int:pk>/apply/", views.DrawApplyView.as_view(), name="draw_apply"),
    # calendar feeds (a secret address each)
    path("ical/me/<str:token>.ics", feeds.booker_feed, name="ical_booker"),
    path("ical/resource/<str:token>.ics", feeds.resource_feed, name="ical_resource"),
    # staff
    path("staff/", views.StaffListView.as_view(), name="staff"),
    path("staff/<int:pk>/", views.WeekView.as_view(), name="resource"),
    path("staff/<int:pk>/sheet/", views.SheetView.as_view(), name="sheet"),
    path("staff/new/", views.ResourceEditView.as_view(), name="new"),
    path("staff/<int:pk>/edit/", views.ResourceEditView.as_view(), name="edit"),
    path("staff/<int:pk>/blackout/", views.BlackoutView.as_view(), name="blackout"),
    path("staff/<int:pk>/desk/", views.DeskBookView.as_view(), name="desk"),
    path("staff/<int:pk>/rules/", views.RulesView.as_view(), name="rules"),
    path("staff/pending/", views.PendingView.as_view(), name="pending"),
    path("staff/bookings/<int:pk>/<str:decision>/", views.DecideView.as_view(), name="decide"),
    path("staff/groups/", views.GroupsView.as_view(), name="groups"),
    path("staff/plate/", views.PlateView.as_view(), name="plate"),
    path("staff/export/", views.ExportView.as_view(), name="export"),
    path("staff/draws/", views.DrawsView.as_view(), name="draws"),
    path("staff/draws/<int:pk>/run/", views.DrawRunView.as_view(), name="draw_run"),
    path("staff/map/data/", views.GeoJSONView.as_view(), name="geojson"),
]
