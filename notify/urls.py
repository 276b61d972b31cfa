from django.urls import path

from notify import views

app_name = "notify"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("read/", views.mark_read, name="mark_read"),
    path("<int:pk>/open/", views.open_one, name="open"),
    path("badge/", views.badge, name="badge"),
]
