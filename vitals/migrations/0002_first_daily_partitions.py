"""On PostgreSQL: the first daily partitions of the readings table (vitals.partitions keeps them after),
and room on the sensors' pages for HOT updates.

Every batch of readings rewrites each of its sensors' `last_at`, `last_value`, `last_seen_at`: none is
indexed, so with free space on the page PostgreSQL updates the row in place (HOT) instead of adding an
entry to each of the table's six indexes. Measured on 5,000 sensors: 1.2-1.9 s per batch at the
default fillfactor, 0.13 s at 50.
"""

from datetime import UTC, datetime

from django.db import migrations


def create_partitions(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from vitals.partitions import ensure_partitions

    ensure_partitions(datetime.now(UTC).date())
    schema_editor.execute("ALTER TABLE vitals_sensor SET (fillfactor = 50)")


class Migration(migrations.Migration):
    dependencies = [("vitals", "0001_indicators_sensors_readings_warnings")]

    operations = [migrations.RunPython(create_partitions, migrations.RunPython.noop)]
