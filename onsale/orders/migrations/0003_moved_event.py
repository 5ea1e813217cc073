"""Orders point at the event model's new home. State only: the table and
its foreign keys are unchanged."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0001_moved_event"),
        ("orders", "0002_order_email_claim"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="order",
                    name="event",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="orders",
                        to="events.event",
                    ),
                ),
                migrations.AlterField(
                    model_name="refundpolicy",
                    name="event",
                    field=models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="refund_policy",
                        to="events.event",
                    ),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="event",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="events.event",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
