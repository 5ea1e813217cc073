"""The organizer audit log moves here from the platform app, which must not
depend on accounts. State only: the table keeps its name and its rows."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("usermgmt", "0001_initial"),
        ("onsale_platform", "0001_audit_entry"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditEntry",
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
                        (
                            "event_id",
                            models.PositiveBigIntegerField(blank=True, null=True),
                        ),
                        (
                            "actor_email",
                            models.CharField(blank=True, default="", max_length=254),
                        ),
                        ("action", models.CharField(max_length=64)),
                        ("before", models.JSONField(default=dict)),
                        ("after", models.JSONField(default=dict)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "organization",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="usermgmt.organization",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "onsale_platform_auditentry",
                        "indexes": [
                            models.Index(
                                fields=["organization", "event_id", "-id"],
                                name="audit_org_event_recent",
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
