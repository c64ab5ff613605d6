from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, register_converter

from billing_portal.converters import IdConverter

# Before the apps' URLconfs below, which take their ids as `<id:pk>`.
register_converter(IdConverter, "id")

admin.site.site_header = "AI Gateway billing — operations"
admin.site.site_title = "AI Gateway billing"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("", include("finance.urls")),
    path("", include("topups.urls")),
]
