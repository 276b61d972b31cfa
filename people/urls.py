from django.urls import path

from people import views

app_name = "people"
urlpatterns = [
    path("", views.PersonListView.as_view(), name="person_list"),
    path("search/", views.SearchView.as_view(), name="search"),
    path("search/suggest/", views.SuggestView.as_view(), name="suggest"),
    path("<int:pk>/", views.PersonView.as_view(), name="person"),
    path("<int:pk>/edit/", views.PersonEditView.as_view(), name="person_edit"),
    path("<int:pk>/reveal/", views.PersonRevealView.as_view(), name="person_reveal"),
    path("houses/<int:pk>/move-in/", views.MoveInView.as_view(), name="move_in"),
    path("residences/<int:pk>/move-out/", views.MoveOutView.as_view(), name="move_out"),
    path("enterprises/", views.EnterpriseListView.as_view(), name="enterprise_list"),
    path("enterprises/<int:pk>/", views.EnterpriseView.as_view(), name="enterprise"),
]

# Import and export (people/import_views.py)
from people import import_views  # noqa: E402

urlpatterns += [
    path("import/", import_views.ImportUploadView.as_view(), name="import"),
    path("import/template.xlsx", import_views.ImportTemplateView.as_view(), name="import_template"),
    path("import/<uuid:token>/", import_views.ImportJobView.as_view(), name="import_job"),
    path("import/<uuid:token>/progress/", import_views.ImportProgressView.as_view(), name="import_progress"),
    path("import/<uuid:token>/commit/", import_views.ImportCommitView.as_view(), name="import_commit"),
    path("import/<uuid:token>/places/", import_views.ImportCreatePlacesView.as_view(), name="import_create_places"),
    path("import/<uuid:token>/errors.xlsx", import_views.ImportErrorsView.as_view(), name="import_errors"),
    path("export/", import_views.ExportView.as_view(), name="export"),
    path("export/requests/", import_views.ExportRequestsView.as_view(), name="export_requests"),
    path("export/requests/<int:pk>/", import_views.ExportRequestsView.as_view(), name="export_request"),
]
