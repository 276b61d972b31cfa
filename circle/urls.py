from django.urls import path

from circle import basemap, views

app_name = "circle"
urlpatterns = [
    path("", views.MatrixView.as_view(), name="matrix"),
    path("coverage/", views.CoverageView.as_view(), name="coverage"),
    path("map/", views.MapView.as_view(), name="map"),
    path("map/data.json", views.MapDataView.as_view(), name="map_data"),
    path("basemap/streets.geojson", basemap.streets_view, name="basemap"),
    path("plan/", views.PlanView.as_view(), name="plan"),
    path("plan/sites/", views.SiteAddView.as_view(), name="site_add"),
    path("facilities/", views.FacilityListView.as_view(), name="facility_list"),
    path("facilities.geojson", views.FacilitiesGeoJsonView.as_view(), name="facilities_geojson"),
    path("facilities/new/", views.FacilityEditView.as_view(), name="facility_new"),
    path("facilities/import/", views.FacilityImportView.as_view(), name="facility_import"),
    path("facilities/<int:pk>/edit/", views.FacilityEditView.as_view(), name="facility_edit"),
    path("facilities/<int:pk>/close/", views.FacilityCloseView.as_view(), name="facility_close"),
    path("facilities/<int:pk>/photo/", views.FacilityPhotoView.as_view(), name="facility_photo"),
    path("categories/", views.CategoryListView.as_view(), name="categories"),
    path("categories/new/", views.CategoryEditView.as_view(), name="category_new"),
    path("categories/<int:pk>/edit/", views.CategoryEditView.as_view(), name="category_edit"),
    path("network/", views.NetworkView.as_view(), name="network"),
    path("qr/<int:pk>.svg", views.BuildingQrView.as_view(), name="building_qr"),
    path("near/<str:token>/", views.near_view, name="near"),
    path("near/<str:token>/data.json", views.near_data, name="near_data"),
]
