from django.urls import path

from mediation import views

app_name = "mediation"
urlpatterns = [
    path("", views.ListView.as_view(), name="list"),
    path("new/", views.NewView.as_view(), name="new"),
    path("<int:pk>/", views.DetailView.as_view(), name="detail"),
    path("<int:pk>/reveal/", views.RevealTextView.as_view(), name="reveal_text"),
    path("<int:pk>/parties/", views.PartyAddView.as_view(), name="party_add"),
    path("<int:pk>/mediators/", views.MediatorAddView.as_view(), name="mediator_add"),
    path("<int:pk>/sessions/", views.SessionAddView.as_view(), name="session_add"),
    path("<int:pk>/close/", views.CloseView.as_view(), name="close"),
    path("<int:pk>/follow-ups/<int:fid>/", views.FollowUpView.as_view(), name="follow_up"),
    path("<int:pk>/agreement.pdf", views.AgreementView.as_view(), name="agreement"),
]
