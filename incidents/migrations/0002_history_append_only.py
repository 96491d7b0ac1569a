"""On PostgreSQL, refuse UPDATE and DELETE on history records at the database level.

The application never updates or deletes them; the trigger stops everyone
else too (a script, a console, a compromised account without DDL rights).
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION citygov_history_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'incidents_eventrecord is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER incidents_eventrecord_append_only
    BEFORE UPDATE OR DELETE ON incidents_eventrecord
    FOR EACH ROW EXECUTE FUNCTION citygov_history_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS incidents_eventrecord_append_only ON incidents_eventrecord;
DROP FUNCTION IF EXISTS citygov_history_append_only();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
