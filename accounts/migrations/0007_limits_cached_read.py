"""The top-up limits become a cached read like the others (CachedRead, kind "limits"), claimed
by one worker at a time: the account's three columns that cached them are dropped, and the
next lookup asks Cloudflare again.

The cache now holds Cloudflare's `result` as sent, parsed by the client when read back. The
invoices held (pages that can take many calls to read again, and the invoices of top-ups noted
since) are turned into Cloudflare's objects; the balance and usage held are dropped (a cache:
the next view reads them again)."""

from datetime import datetime
from decimal import Decimal

import accounts.models
from django.db import migrations, models

OPTIONAL = (
    "created_by",
    "description",
    "invoice_origin",
    "invoice_pdf",
    "attempt_count",
    "attempted",
    "auto_advance",
)


def _number(value) -> int | Decimal:
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else value


def _as_cloudflare(invoice: dict) -> dict:
    """An invoice as 0006 held it (the client's dataclass: cents as strings, times as ISO)."""
    created = invoice["created"]
    if created is not None:
        created = _number(str(datetime.fromisoformat(created).timestamp()))
    return {
        "id": invoice["id"],
        "amount_due": _number(invoice["amount_due_cents"]),
        "amount_paid": _number(invoice["amount_paid_cents"]),
        "amount_remaining": _number(invoice["amount_remaining_cents"]),
        "currency": invoice["currency"],
        "status": invoice["status"],
        "created": created,
        **{key: invoice[key] for key in OPTIONAL},
    }


def forwards(apps, schema_editor):
    CachedRead = apps.get_model("accounts", "CachedRead")
    CachedRead.objects.exclude(kind="invoices").delete()
    for row in CachedRead.objects.filter(kind="invoices", value__isnull=False):
        if isinstance(row.value, dict) and "history" in row.value:
            history = row.value["history"]
            row.value = {
                "invoices": [_as_cloudflare(invoice) for invoice in history["invoices"]],
                "complete": history["complete"],
                "noted": row.value["noted"],
            }
            row.save(update_fields=["value"])


def backwards(apps, schema_editor):
    # A cache in a shape the older code does not read: it reads everything again.
    apps.get_model("accounts", "CachedRead").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_invoices_incremental"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="cloudflareaccount",
            name="limits_checked_at",
        ),
        migrations.RemoveField(
            model_name="cloudflareaccount",
            name="limits_max_cents",
        ),
        migrations.RemoveField(
            model_name="cloudflareaccount",
            name="limits_min_cents",
        ),
        migrations.AlterField(
            model_name="cachedread",
            name="value",
            field=models.JSONField(
                blank=True,
                decoder=accounts.models.ResultDecoder,
                encoder=accounts.models.ResultEncoder,
                null=True,
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
