from django.urls import path, register_converter

from open311 import admin_views, views

app_name = "open311"


class FormatConverter:
    regex = "json|xml"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(FormatConverter, "fmt")

urlpatterns = [
    path("discovery.<fmt:fmt>", views.discovery, name="discovery"),
    path("v2/services.<fmt:fmt>", views.services, name="services"),
    path("v2/services/<str:code>.<fmt:fmt>", views.service_definition, name="service_definition"),
    path("v2/requests.<fmt:fmt>", views.requests_view, name="requests"),
    path("v2/requests/<str:number>.<fmt:fmt>", views.request_detail, name="request_detail"),
    path("v2/tokens/<str:token>.<fmt:fmt>", views.token_view, name="token"),
    path("keys/", admin_views.KeyListView.as_view(), name="key_list"),
    path("keys/<int:pk>/deactivate/", admin_views.KeyDeactivateView.as_view(), name="key_deactivate"),
]
