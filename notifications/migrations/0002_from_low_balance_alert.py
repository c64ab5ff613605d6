"""Each account's low-balance alert becomes a threshold, and every account keeps emailing its
admins and finance members, as the alert did."""

from django.db import migrations


def forwards(apps, schema_editor):
    CloudflareAccount = apps.get_model("accounts", "CloudflareAccount")
    BalanceThreshold = apps.get_model("notifications", "BalanceThreshold")
    Channel = apps.get_model("notifications", "Channel")
    for account in CloudflareAccount.objects.all():
        Channel.objects.create(account=account, kind="email", email_roles=["admin", "finance"])
        if account.low_balance_alert_cents:
            BalanceThreshold.objects.create(
                account=account,
                cents=account.low_balance_alert_cents,
                crossed_at=account.low_balance_alerted_at,
            )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_limits_cached_read"),
        ("notifications", "0001_outbox"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
