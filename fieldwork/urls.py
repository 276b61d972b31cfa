from django.urls import path

from fieldwork import pwa, views

app_name = "fieldwork"
urlpatterns = [
    path("today/", views.TodayView.as_view(), name="today"),
    path("today/round/", pwa.RoundView.as_view(), name="round"),
    path("offline/", pwa.OfflinePageView.as_view(), name="offline"),
    path("houses/<int:pk>/", views.HouseVisitView.as_view(), name="house"),
    path("houses/<int:pk>/history/", views.HouseHistoryView.as_view(), name="house_history"),
    path("persons/<int:pk>/history/", views.PersonHistoryView.as_view(), name="person_history"),
    path("visits/<int:pk>/", views.VisitDetailView.as_view(), name="visit"),
    path("visits/<int:pk>/photo/", views.VisitPhotoView.as_view(), name="visit_photo"),
    path("review/", views.ReviewView.as_view(), name="review"),
    path("review/bulk/", views.BulkApproveView.as_view(), name="review_bulk"),
    path("changes/<int:pk>/", views.ChangeDetailView.as_view(), name="change"),
    path("changes/<int:pk>/approve/", views.ApproveView.as_view(), name="approve"),
    path("changes/<int:pk>/reject/", views.RejectView.as_view(), name="reject"),
    path("workload/", views.WorkloadView.as_view(), name="workload"),
    path("policy/", views.PolicyView.as_view(), name="policy"),
]
