from django.urls import path

from notifications import views

app_name = "notifications"

page = "accounts/<str:account_id>/notifications/"
channel = page + "channels/<id:pk>/"

urlpatterns = [
    path(page, views.notification_settings, name="settings"),
    path(page + "thresholds/", views.threshold_add, name="threshold_add"),
    path(page + "thresholds/<id:pk>/remove/", views.threshold_remove, name="threshold_remove"),
    path(page + "email/", views.email_set, name="email_set"),
    path(page + "slack/", views.slack_add, name="slack_add"),
    path(page + "webhooks/", views.webhook_add, name="webhook_add"),
    path(channel + "remove/", views.channel_remove, name="channel_remove"),
    path(channel + "test/", views.channel_test, name="channel_test"),
    path(channel + "deliveries/", views.delivery_log, name="deliveries"),
]
