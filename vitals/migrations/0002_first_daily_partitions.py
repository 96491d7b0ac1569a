"""The first daily partitions of the readings table on PostgreSQL (vitals.partitions keeps them after)."""

from datetime import UTC, datetime

from django.db import migrations


def create_partitions(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from vitals.partitions import ensure_partitions

    ensure_partitions(datetime.now(UTC).date())


class Migration(migrations.Migration):
    dependencies = [("vitals", "0001_indicators_sensors_readings_warnings")]

    operations = [migrations.RunPython(create_partitions, migrations.RunPython.noop)]
