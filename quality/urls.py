from django.urls import path

from quality import views

app_name = "quality"
urlpatterns = [
    path("", views.OverviewView.as_view(), name="overview"),
    path("stale/", views.StaleListView.as_view(), name="stale"),
    path("issues/", views.IssueListView.as_view(), name="issues"),
    path("issues/<int:pk>/close/", views.IssueCloseView.as_view(), name="issue_close"),
    path("policies/", views.PolicyListView.as_view(), name="policies"),
]
