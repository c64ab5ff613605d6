"""Placeholder for the notification settings page (issue 17): the overview links here. The real
page replaces this file."""

from django.urls import path
from django.views.generic import RedirectView

app_name = "notifications"

urlpatterns = [
    path(
        "accounts/<str:account_id>/notifications/",
        RedirectView.as_view(pattern_name="accounts:overview"),
        name="settings",
    ),
]
