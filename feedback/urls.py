from django.urls import path

from feedback import views

app_name = "feedback"
urlpatterns = [
    path("sheet/<int:pk>/", views.sheet, name="sheet"),
    path("r/<str:token>/", views.report, name="report"),
]
