"""The clocks' foreign-key index on event: slaclock_event_step leads with the column, so every
lookup by event alone uses that one, and an intake writes one index entry less per clock (#20).
Only the index goes; the foreign-key constraint stays (AlterField would drop and re-add it,
validating every clock again)."""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "dispatch_slaclock_event_id_37d45f11"  # as Django derives it from the table and column


class Migration(migrations.Migration):
    dependencies = [
        ("dispatch", "0011_rollup_days_present"),
        ("incidents", "0015_event_reported_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="slaclock",
                    name="event",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="clocks",
                        to="incidents.event",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    reverse_sql=f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "dispatch_slaclock" ("event_id")',
                ),
            ],
        ),
    ]
