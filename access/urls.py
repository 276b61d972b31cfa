from django.urls import path

from access import views

app_name = "access"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password/", views.password_change, name="password_change"),
    path("otp/", views.otp_verify, name="otp"),
    path("otp/setup/", views.otp_setup, name="otp_setup"),
    path("otp/qr.svg", views.otp_qr, name="otp_qr"),
    path("reason/", views.reason, name="reason"),
    path("users/", views.user_list, name="user_list"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<int:pk>/", views.user_edit, name="user_edit"),
    path("roles/", views.role_list, name="role_list"),
    path("roles/new/", views.role_edit, name="role_create"),
    path("roles/<int:pk>/", views.role_edit, name="role_edit"),
    path("grants/", views.grant_list, name="grant_list"),
    path("grants/new/", views.grant_edit, name="grant_create"),
    path("grants/<int:pk>/", views.grant_edit, name="grant_edit"),
    path("grants/<int:pk>/delete/", views.grant_delete, name="grant_delete"),
    path("audit/", views.audit_list, name="audit_list"),
    path("tokens/", views.token_list, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
]
