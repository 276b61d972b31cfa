from django.urls import path

from volunteers import views

app_name = "volunteers"
urlpatterns = [
    # staff
    path("", views.VolunteerListView.as_view(), name="list"),
    path("new/", views.RegisterView.as_view(), name="register"),
    path("v/<int:pk>/", views.VolunteerView.as_view(), name="volunteer"),
    path("v/<int:pk>/certificate.pdf", views.CertificateView.as_view(), name="certificate"),
    path("teams/", views.TeamListView.as_view(), name="teams"),
    path("shifts/", views.CalendarView.as_view(), name="calendar"),
    path("shifts/new/", views.TaskNewView.as_view(), name="task_new"),
    path("shifts/<int:pk>/", views.ShiftView.as_view(), name="shift"),
    path("signups/<int:pk>/mark/", views.MarkView.as_view(), name="mark"),
    path("signups/<int:pk>/verify/", views.VerifyView.as_view(), name="verify"),
    path("signups/<int:pk>/correct/", views.CorrectView.as_view(), name="correct"),
    path("verify/", views.QueueView.as_view(), name="queue"),
    path("honour/", views.HonourView.as_view(), name="honour"),
    path("export/", views.ExportView.as_view(), name="export"),
    # the volunteer's phone
    path("me/", views.MeView.as_view(), name="me"),
    path("me/join/<int:pk>/", views.JoinView.as_view(), name="join"),
    path("me/<int:pk>/<str:what>/", views.ActView.as_view(), name="act"),
    path("me/take/<int:pk>/", views.TakeView.as_view(), name="take"),
    path("me/spend/<int:pk>/", views.SpendView.as_view(), name="spend"),
    path("me/opinion/<int:pk>/", views.OpinionView.as_view(), name="opinion"),
    path("qr/<str:token>/", views.QrView.as_view(), name="qr"),
]
