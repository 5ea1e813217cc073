"""The event model, moved here from seatselection. Its table stays
"seatselection_event" (created by seatselection 0001): this migration only
tells Django the model now lives here; no SQL runs."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("seatselection", "0002_seatmap"),
        ("usermgmt", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Event",
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
                        ("name", models.CharField(max_length=200)),
                        ("venue_name", models.CharField(max_length=200)),
                        ("starts_at", models.DateTimeField()),
                        ("onsale_at", models.DateTimeField()),
                        ("currency", models.CharField(default="EUR", max_length=3)),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("draft", "Draft"),
                                    ("published", "Published"),
                                    ("cancelled", "Cancelled"),
                                ],
                                default="draft",
                                max_length=16,
                            ),
                        ),
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now),
                        ),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "organization",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="events",
                                to="usermgmt.organization",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "seatselection_event",
                        "indexes": [
                            models.Index(
                                fields=["status", "starts_at"],
                                name="seatselecti_status_34ba2b_idx",
                            )
                        ],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("onsale_at__lte", models.F("starts_at"))
                                ),
                                name="event_onsale_before_start",
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
