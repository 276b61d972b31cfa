from django.urls import path

from cases import views

app_name = "cases"
urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("queue/", views.QueueView.as_view(), name="queue"),
    path("inbox/", views.InboxView.as_view(), name="inbox"),
    path("report/", views.ReportView.as_view(), name="report"),
    path("report/places/", views.PlaceOptionsView.as_view(), name="place_options"),
    path("<int:pk>/", views.DetailView.as_view(), name="detail"),
    path("<int:pk>/reveal/", views.RevealTextView.as_view(), name="reveal_text"),
    path("<int:pk>/act/<slug:action>/", views.ActView.as_view(), name="act"),
    path("attachment/<int:pk>/", views.AttachmentView.as_view(), name="attachment"),
    path("map/", views.MapView.as_view(), name="map"),
    path("map/data/", views.GeoJSONView.as_view(), name="geojson"),
    path("figures/", views.FiguresView.as_view(), name="figures"),
]

# Duplicate suggestions, the 12345 hotline import and the residents' public pages (cases/dedup_views.py,
# cases/hotline_views.py, cases/public_views.py).
from cases import dedup_views, holiday_views, hotline_views, public_views  # noqa: E402

urlpatterns += [
    path("dedup/suggest/", dedup_views.DedupSuggestView.as_view(), name="dedup_suggest"),
    path("dedup/link/", dedup_views.DedupLinkView.as_view(), name="dedup_link"),
    path("holidays/", holiday_views.HolidayListView.as_view(), name="holidays"),
    path("hotline/", hotline_views.HotlineImportView.as_view(), name="hotline_import"),
    path("hotline/template.xlsx", hotline_views.HotlineTemplateView.as_view(), name="hotline_template"),
    path("hotline/<str:job_id>/", hotline_views.HotlineJobView.as_view(), name="hotline_job"),
    path("hotline/<str:job_id>/import/", hotline_views.HotlineCommitView.as_view(), name="hotline_commit"),
    path("hotline/<str:job_id>/progress/", hotline_views.HotlineProgressView.as_view(), name="hotline_progress"),
    path("r/", public_views.PublicReportView.as_view(), name="public_pick"),
    path("r/<str:token>/", public_views.PublicReportView.as_view(), name="public_report"),
    path("e/<str:token>/", public_views.PublicEnterpriseView.as_view(), name="public_enterprise"),
    path("code/", public_views.PublicCodeView.as_view(), name="public_code"),
    path("track/", public_views.PublicTrackView.as_view(), name="public_track"),
    path("track/<str:number>/", public_views.PublicCaseView.as_view(), name="public_case"),
    path("qr/<int:pk>.svg", public_views.PublicQrView.as_view(), name="public_qr"),
    path("qr/<int:pk>/<str:kind>.svg", public_views.PublicQrView.as_view(), name="public_qr_kind"),
]
