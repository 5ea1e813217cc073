"""The audit log now belongs to usermgmt (its 0002 takes over the table, same
name): the platform app forgets the model. State only: no SQL."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("onsale_platform", "0001_audit_entry"),
        ("usermgmt", "0002_auditentry"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AuditEntry")],
            database_operations=[],
        ),
    ]
