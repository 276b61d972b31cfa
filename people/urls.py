from django.urls import path

from people import views

app_name = "people"
urlpatterns = [
    path("", views.PersonListView.as_view(), name="person_list"),
    path("search/", views.SearchView.as_view(), name="search"),
    path("<int:pk>/", views.PersonView.as_view(), name="person"),
    path("<int:pk>/edit/", views.PersonEditView.as_view(), name="person_edit"),
    path("<int:pk>/reveal/", views.PersonRevealView.as_view(), name="person_reveal"),
    path("houses/<int:pk>/move-in/", views.MoveInView.as_view(), name="move_in"),
    path("residences/<int:pk>/move-out/", views.MoveOutView.as_view(), name="move_out"),
    path("enterprises/", views.EnterpriseListView.as_view(), name="enterprise_list"),
    path("enterprises/<int:pk>/", views.EnterpriseView.as_view(), name="enterprise"),
]
