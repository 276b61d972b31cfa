from django.urls import path

from feedback import views

app_name = "feedback"
urlpatterns = [
    path("", views.index, name="index"),
    path("sheet/<int:pk>/", views.sheet, name="sheet"),
    path("r/<str:token>/", views.report, name="report"),
]
