"""On PostgreSQL, refuse TRUNCATE of the history table as well (0002 refuses UPDATE and DELETE).

TRUNCATE fires no row trigger, so 0002's trigger let the whole history go in one statement
(`TRUNCATE incidents_eventrecord`, or `TRUNCATE incidents_event CASCADE`). A statement
trigger on TRUNCATE closes that, with 0002's function and message. A superuser can still
switch ordinary triggers off (session_replication_role), as with 0002: verify_history then
names every event whose records are gone. Nothing to do on SQLite, which has no TRUNCATE.
"""

from django.db import migrations

CREATE = """
CREATE TRIGGER incidents_eventrecord_no_truncate
    BEFORE TRUNCATE ON incidents_eventrecord
    FOR EACH STATEMENT EXECUTE FUNCTION citygov_history_append_only();
"""

DROP = "DROP TRIGGER IF EXISTS incidents_eventrecord_no_truncate ON incidents_eventrecord;"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0011_anchor_existing_histories")]

    operations = [migrations.RunPython(create, drop)]
