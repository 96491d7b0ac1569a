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


class CreatePartitionedModel(migrations.CreateModel):
    """CreateModel that, on PostgreSQL, creates a declaratively partitioned table (`PARTITION BY …`)
    with a DEFAULT partition `<table>_default` that catches rows no partition covers yet.

    Other databases get a plain table. The partitions themselves are the owning app's maintenance
    (it creates them ahead and drops them past retention); the partition key must be in the primary key.
    """

    def __init__(self, *args, partition_by: str, **kwargs) -> None:
        self.partition_by = partition_by
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, args, kwargs = super().deconstruct()
        kwargs["partition_by"] = self.partition_by
        return name, args, kwargs

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if schema_editor.connection.vendor != "postgresql":
            schema_editor.create_model(model)
            return
        sql, params = schema_editor.table_sql(model)
        table = schema_editor.quote_name(model._meta.db_table)
        default = schema_editor.quote_name(f"{model._meta.db_table}_default")
        schema_editor.execute(f"{sql} PARTITION BY {self.partition_by}", params or None)
        schema_editor.execute(f"CREATE TABLE {default} PARTITION OF {table} DEFAULT")
        schema_editor.deferred_sql.extend(schema_editor._model_indexes_sql(model))
