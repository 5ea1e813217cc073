# WebhookReceipt moved here from checkout. Its table (checkout_webhookreceipt)
# was created by checkout's 0001 and is kept as it is: this migration changes
# Django's state only, no SQL runs.

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("checkout", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="WebhookReceipt",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("provider", models.CharField(max_length=32)),
                        ("event_id", models.CharField(max_length=64)),
                        ("event_type", models.CharField(max_length=64)),
                        (
                            "received_at",
                            models.DateTimeField(default=django.utils.timezone.now),
                        ),
                    ],
                    options={
                        "db_table": "checkout_webhookreceipt",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("provider", "event_id"),
                                name="webhook_receipt_unique",
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
