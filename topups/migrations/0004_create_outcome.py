from django.db import migrations, models


def backfill(apps, schema_editor):
    """What the trail already says: a refused create made nothing, an answered one a payment."""
    TopUp = apps.get_model("topups", "TopUp")
    TopUp.objects.filter(
        state="failed", payment_intent_id__isnull=True, events__kind="create_refused"
    ).update(create_outcome="not_made")
    TopUp.objects.filter(
        payment_intent_id__isnull=False, events__kind="create_answered"
    ).update(create_outcome="made")


class Migration(migrations.Migration):
    dependencies = [
        ("topups", "0003_reconciliation_guards"),
    ]

    operations = [
        migrations.AddField(
            model_name="topup",
            name="create_outcome",
            field=models.CharField(
                blank=True,
                choices=[
                    ("made", "Cloudflare made the payment"),
                    ("not_made", "Refused or never sent: nothing charged"),
                ],
                max_length=10,
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="topup",
            constraint=models.CheckConstraint(
                condition=~models.Q(create_outcome="not_made")
                | models.Q(state="failed", payment_intent_id__isnull=True),
                name="topup_not_made_failed_without_payment",
            ),
        ),
        migrations.AddConstraint(
            model_name="topup",
            constraint=models.CheckConstraint(
                condition=~models.Q(create_outcome="made") | models.Q(payment_intent_id__isnull=False),
                name="topup_made_has_payment_intent",
            ),
        ),
    ]
