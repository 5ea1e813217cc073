# WebhookReceipt moved to onsale.payments and the fake provider's ledger to
# onsale.payments.fake (an app installed only with that provider). Their
# tables stay where checkout's 0001 created them, under their old names: the
# models are removed from checkout's state only, no SQL runs.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("checkout", "0001_initial"),
        ("payments", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="WebhookReceipt"),
                # The refund first: it holds the foreign key to the charge.
                migrations.DeleteModel(name="FakeProviderRefund"),
                migrations.DeleteModel(name="FakeProviderCharge"),
                migrations.DeleteModel(name="FakeProviderEvent"),
            ],
            database_operations=[],
        ),
    ]
