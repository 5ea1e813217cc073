# The fake provider's ledger moved here from checkout. Its tables
# (checkout_fakeprovider*) were created by checkout's 0001 and are kept as
# they are: this migration changes Django's state only, no SQL runs.

import django.db.models.deletion
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
                    name="FakeProviderEvent",
                    fields=[
                        (
                            "id",
                            models.CharField(
                                max_length=40, primary_key=True, serialize=False
                            ),
                        ),
                        ("type", models.CharField(max_length=64)),
                        ("data", models.JSONField()),
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now),
                        ),
                    ],
                    options={"db_table": "checkout_fakeproviderevent"},
                ),
                migrations.CreateModel(
                    name="FakeProviderCharge",
                    fields=[
                        (
                            "id",
                            models.CharField(
                                max_length=40, primary_key=True, serialize=False
                            ),
                        ),
                        (
                            "idempotency_key",
                            models.CharField(max_length=255, unique=True),
                        ),
                        (
                            "amount",
                            models.DecimalField(decimal_places=2, max_digits=12),
                        ),
                        ("currency", models.CharField(max_length=3)),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("succeeded", "Succeeded"),
                                    ("failed", "Failed"),
                                ],
                                max_length=16,
                            ),
                        ),
                        ("failure_code", models.CharField(blank=True, max_length=40)),
                        (
                            "amount_refunded",
                            models.DecimalField(
                                decimal_places=2, default=0, max_digits=12
                            ),
                        ),
                        ("card_last4", models.CharField(blank=True, max_length=4)),
                        ("description", models.CharField(blank=True, max_length=200)),
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now),
                        ),
                    ],
                    options={
                        "db_table": "checkout_fakeprovidercharge",
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("amount_refunded__lte", models.F("amount"))
                                ),
                                name="fake_charge_refund_within_amount",
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="FakeProviderRefund",
                    fields=[
                        (
                            "id",
                            models.CharField(
                                max_length=40, primary_key=True, serialize=False
                            ),
                        ),
                        (
                            "idempotency_key",
                            models.CharField(max_length=255, unique=True),
                        ),
                        (
                            "amount",
                            models.DecimalField(decimal_places=2, max_digits=12),
                        ),
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now),
                        ),
                        (
                            "charge",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="refunds",
                                to="payments_fake.fakeprovidercharge",
                            ),
                        ),
                    ],
                    options={"db_table": "checkout_fakeproviderrefund"},
                ),
            ],
            database_operations=[],
        ),
    ]
