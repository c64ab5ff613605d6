from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from accounts.models import CloudflareAccount
        from accounts.signals import balance_read
        from notifications import receivers

        post_save.connect(
            receivers.email_channel_for_new_account,
            sender=CloudflareAccount,
            dispatch_uid="notifications.email_channel_for_new_account",
        )
        balance_read.connect(
            receivers.balance_thresholds_on_read, dispatch_uid="notifications.balance_thresholds"
        )
        balance_read.connect(
            receivers.auto_topup_trouble_on_read, dispatch_uid="notifications.auto_topup_trouble"
        )
