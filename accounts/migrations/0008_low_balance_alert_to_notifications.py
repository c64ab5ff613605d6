"""The single low-balance alert is gone: notifications 0002 turned each account's threshold (and
its "told" mark) into a BalanceThreshold, so its columns are dropped after that ran."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_limits_cached_read"),
        ("notifications", "0002_from_low_balance_alert"),
    ]

    operations = [
        migrations.RemoveField(model_name="cloudflareaccount", name="low_balance_alert_cents"),
        migrations.RemoveField(model_name="cloudflareaccount", name="low_balance_alerted_at"),
        migrations.RemoveField(model_name="cloudflareaccount", name="low_balance_alert_claimed_at"),
    ]
