"""The top-up limits become a cached read like the others (CachedRead, kind "limits"), claimed
by one worker at a time: the account's three columns that cached them are dropped, and the
next lookup asks Cloudflare again."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0006_invoices_incremental'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='cloudflareaccount',
            name='limits_checked_at',
        ),
        migrations.RemoveField(
            model_name='cloudflareaccount',
            name='limits_max_cents',
        ),
        migrations.RemoveField(
            model_name='cloudflareaccount',
            name='limits_min_cents',
        ),
    ]
