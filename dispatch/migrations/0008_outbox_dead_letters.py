# Outbox dead letters (#13 item 15); the index is built concurrently on PostgreSQL.

from django.db import migrations, models
from django.db.models import F

from core.migration_operations import AddIndexConcurrently

# What the release before this one did after its eighth failure: marked the message processed.
OLD_MAX_ATTEMPTS = 8


def resurrect_vanished(apps, schema_editor):
    """Messages the old drain gave up on were marked processed; they become the dead letters they were.

    A message that failed and then went through has fewer than eight attempts:
    the old drain counted failures only and stopped at the eighth.
    """
    OutboxMessage = apps.get_model("dispatch", "OutboxMessage")
    OutboxMessage.objects.filter(processed_at__isnull=False, attempts__gte=OLD_MAX_ATTEMPTS).update(
        dead_at=F("processed_at"), processed_at=None
    )


def bury_again(apps, schema_editor):
    OutboxMessage = apps.get_model("dispatch", "OutboxMessage")
    OutboxMessage.objects.filter(dead_at__isnull=False).update(processed_at=F("dead_at"), dead_at=None)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("dispatch", "0007_slaclock_calendar_unknown"),
    ]

    operations = [
        migrations.AddField(
            model_name="outboxmessage",
            name="dead_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="dead letter since"),
        ),
        migrations.RunPython(resurrect_vanished, bury_again, elidable=True),
        AddIndexConcurrently(
            model_name="outboxmessage",
            index=models.Index(condition=models.Q(("dead_at__isnull", False)), fields=["dead_at"], name="outbox_dead"),
        ),
    ]
