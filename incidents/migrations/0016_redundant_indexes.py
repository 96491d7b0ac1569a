"""Indexes no query needs, each one more entry written per intake (#20).

The foreign keys' own indexes on category, owner_unit and lead_department (events) and event
(records): a composite index leads with each column (event_category_reported, event_owner_state,
event_lead_state, eventrecord_event_seq), so every lookup by the column alone uses that one.
Only the indexes go; the foreign-key constraints stay as they are (AlterField would drop and
re-add them, validating every row of the biggest tables again).

PostgreSQL's extra LIKE 'prefix%' index Django adds beside the unique event code: nothing
searches codes by prefix (the queues' search is icontains, which no btree serves); the unique
index stays. Names as Django derives them from the table and column.

And the record hash's uniqueness: the hash covers the event and the sequence, which
eventrecord_event_seq keeps unique already; its two indexes on random SHA-256 keys (unique and
LIKE, 124 MB at 577,000 records) cost each intake page reads and full-page WAL images.
"""

import django.db.models.deletion
from django.db import migrations, models

FOREIGN_KEY_INDEXES = [
    ("incidents_event_category_id_45c6605f", "incidents_event", "category_id"),
    ("incidents_event_lead_department_id_9230d490", "incidents_event", "lead_department_id"),
    ("incidents_event_owner_unit_id_3e3045b3", "incidents_event", "owner_unit_id"),
    ("incidents_eventrecord_event_id_7144cdab", "incidents_eventrecord", "event_id"),
]
LIKE_INDEXES = [("incidents_event_code_4c70c1b5_like", "incidents_event", "code")]


def drop_indexes(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    for name, _table, _column in FOREIGN_KEY_INDEXES + (LIKE_INDEXES if postgresql else []):
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


def create_indexes(apps, schema_editor):
    for name, table, column in FOREIGN_KEY_INDEXES:
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")')
    if schema_editor.connection.vendor == "postgresql":
        for name, table, column in LIKE_INDEXES:
            schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}" varchar_pattern_ops)')


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_merge_integrator_multipolygon_addresses"),
        ("incidents", "0015_event_reported_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="event",
                    name="category",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="incidents.category",
                        verbose_name="category",
                    ),
                ),
                migrations.AlterField(
                    model_name="event",
                    name="lead_department",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="lead_events",
                        to="accounts.department",
                        verbose_name="lead department",
                    ),
                ),
                migrations.AlterField(
                    model_name="event",
                    name="owner_unit",
                    field=models.ForeignKey(
                        db_index=False,
                        help_text="The tier whose operators dispatch and close the event now.",
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="owned_events",
                        to="accounts.orgunit",
                        verbose_name="owning unit",
                    ),
                ),
                migrations.AlterField(
                    model_name="eventrecord",
                    name="event",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="records",
                        to="incidents.event",
                        verbose_name="event",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop_indexes, create_indexes)],
        ),
        migrations.AlterField(
            model_name="eventrecord",
            name="hash",
            field=models.CharField(max_length=64, verbose_name="hash"),
        ),
    ]
