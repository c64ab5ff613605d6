"""The cached invoices become a history that says whether it is complete (and which invoices a
completed top-up noted): a list read before is kept, not known to be complete, and read again
(its newest page) at the next view."""

from django.db import migrations


def forwards(apps, schema_editor):
    CachedRead = apps.get_model("accounts", "CachedRead")
    for row in CachedRead.objects.filter(kind="invoices", value__isnull=False):
        if isinstance(row.value, list):
            row.value = {"history": {"invoices": row.value, "complete": False}, "noted": []}
            row.expired = True
            row.save(update_fields=["value", "expired"])


def backwards(apps, schema_editor):
    CachedRead = apps.get_model("accounts", "CachedRead")
    for row in CachedRead.objects.filter(kind="invoices", value__isnull=False):
        if isinstance(row.value, dict):
            row.value = row.value["history"]["invoices"]
            row.save(update_fields=["value"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_reconcile_throttle"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
