from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, register_converter

from accounts import passwords
from billing_portal.converters import IdConverter
from billing_portal.views import favicon

# Before the apps' URLconfs below, which take their ids as `<id:pk>`.
register_converter(IdConverter, "id")

admin.site.site_header = "AI Gateway billing — operations"
admin.site.site_title = "AI Gateway billing"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/changed/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("password/reset/", passwords.reset, name="password_reset"),
    path("password/reset/sent/", passwords.reset_sent, name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/", passwords.reset_confirm, name="password_reset_confirm"
    ),
    path("password/reset/done/", passwords.reset_complete, name="password_reset_complete"),
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("", include("notifications.urls")),
    path("", include("finance.urls")),
    path("", include("topups.urls")),
]
