from django.urls import path, register_converter

from cockpit import views


class LevelConverter:
    regex = "district|street|community|grid|compound|building"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(LevelConverter, "level")

app_name = "cockpit"
urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("wall/", views.WallView.as_view(), name="wall"),
    path("<level:level>/<int:pk>/", views.BoardView.as_view(), name="board"),
    path("<level:level>/<int:pk>/data.json", views.BoardDataView.as_view(), name="board_data"),
    path("<level:level>/<int:pk>/map.json", views.MapDataView.as_view(), name="map_data"),
]
