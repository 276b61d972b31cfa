from django.urls import path

from activities import views

app_name = "activities"
urlpatterns = [
    # residents (a phone)
    path("", views.BrowseView.as_view(), name="browse"),
    path("<int:pk>/", views.ActivityView.as_view(), name="activity"),
    path("<int:pk>/signup/", views.SignUpView.as_view(), name="signup"),
    path("mine/", views.MineView.as_view(), name="mine"),
    path("mine/<int:pk>/<str:action>/", views.MineActionView.as_view(), name="mine_action"),
    path("checkin/<str:token>/", views.SelfCheckInView.as_view(), name="checkin"),
    path("certificate/<int:pk>/", views.CertificateView.as_view(), name="certificate"),
    # organisers
    path("staff/", views.StaffListView.as_view(), name="list"),
    path("staff/new/", views.EditView.as_view(), name="new"),
    path("staff/<int:pk>/", views.DetailView.as_view(), name="detail"),
    path("staff/<int:pk>/edit/", views.EditView.as_view(), name="edit"),
    path("staff/<int:pk>/sessions/", views.SessionAddView.as_view(), name="session_add"),
    path("staff/sessions/<int:pk>/delete/", views.SessionDeleteView.as_view(), name="session_delete"),
    path("staff/<int:pk>/publish/", views.PublishView.as_view(), name="publish"),
    path("staff/<int:pk>/allocate/", views.AllocateView.as_view(), name="allocate"),
    path("staff/<int:pk>/signup/", views.StaffSignUpView.as_view(), name="staff_signup"),
    path("staff/<int:pk>/participants/", views.ParticipantsView.as_view(), name="participants"),
    path("staff/sessions/<int:pk>/", views.RollView.as_view(), name="roll"),
    path("staff/<int:pk>/brief/", views.BriefView.as_view(), name="brief"),
    path("staff/<int:pk>/photos/", views.PhotoAddView.as_view(), name="photo_add"),
    path("staff/photos/<int:pk>/", views.PhotoView.as_view(), name="photo"),
    path("staff/<int:pk>/export/", views.ExportView.as_view(), name="export"),
]
