"""The seat map points at the event model's new home, and seatselection lets
go of the model. State only: the table "seatselection_event" stays and
now belongs to events.Event."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0001_moved_event"),
        ("orders", "0003_moved_event"),
        ("seatselection", "0002_seatmap"),
        ("waitingroom", "0002_moved_event"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="pricecategory",
                    name="event",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="categories",
                        to="events.event",
                    ),
                ),
                migrations.AlterField(
                    model_name="seat",
                    name="event",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="seats",
                        to="events.event",
                    ),
                ),
                migrations.AlterField(
                    model_name="section",
                    name="event",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="sections",
                        to="events.event",
                    ),
                ),
                migrations.AlterField(
                    model_name="seatsale",
                    name="event",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="seat_sales",
                        to="events.event",
                    ),
                ),
                migrations.AlterField(
                    model_name="seatmap",
                    name="event",
                    field=models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="seatmap",
                        to="events.event",
                    ),
                ),
                migrations.DeleteModel(
                    name="Event",
                ),
            ],
            database_operations=[],
        ),
    ]
