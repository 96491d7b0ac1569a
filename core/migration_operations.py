"""Migration operations shared by the apps."""

from __future__ import annotations

from django.db import migrations


class AddIndexConcurrently(migrations.AddIndex):
    """AddIndex that, on PostgreSQL, builds with CREATE INDEX CONCURRENTLY.

    A plain CREATE INDEX blocks every write to the table while it builds, and
    the events table holds millions of rows: intake would stop for the
    duration. Other databases get a plain index. The migration using it must
    set `atomic = False` (PostgreSQL cannot build concurrently in a transaction).
    """

    def _options(self, schema_editor) -> dict:
        return {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.add_index(model, self.index, **self._options(schema_editor))

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index, **self._options(schema_editor))
