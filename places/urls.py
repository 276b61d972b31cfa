from django.urls import path

from places import views

app_name = "places"
urlpatterns = [
    path("streets/", views.StreetListView.as_view(), name="street_list"),
    path("streets/<int:pk>/", views.StreetView.as_view(), name="street"),
    path("communities/", views.CommunityListView.as_view(), name="community_list"),
    path("communities/<int:pk>/", views.CommunityView.as_view(), name="community"),
    path("grids/", views.GridListView.as_view(), name="grid_list"),
    path("grids/<int:pk>/", views.GridView.as_view(), name="grid"),
    path("compounds/", views.CompoundListView.as_view(), name="compound_list"),
    path("compounds/<int:pk>/", views.CompoundView.as_view(), name="compound"),
    path("buildings/", views.BuildingListView.as_view(), name="building_list"),
    path("buildings/<int:pk>/", views.BuildingView.as_view(), name="building"),
    path("houses/", views.HouseListView.as_view(), name="house_list"),
    path("houses/<int:pk>/", views.HouseView.as_view(), name="house"),
    path("houses/<int:pk>/edit/", views.HouseEditView.as_view(), name="house_edit"),
]
