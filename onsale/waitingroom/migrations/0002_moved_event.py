"""The waiting-room config points at the event model's new home. State only:
the table and its foreign key are unchanged."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0001_moved_event"),
        ("waitingroom", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="waitingroomconfig",
                    name="event",
                    field=models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="waiting_room",
                        to="events.event",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
