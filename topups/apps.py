from django.apps import AppConfig


class TopupsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "topups"
    verbose_name = "Top-ups"
