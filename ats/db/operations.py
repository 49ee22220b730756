"""Migration operations for tenant row-level security (PostgreSQL only; see ats.tenant_scope).

A row of a tenant table is visible and writable when its tenant is in the transaction's
`ats.tenant_ids` ('1,2'), or when that setting is '*' (the system scope). `FORCE` applies the
policy to the table's owner too, so even an application that connects as the owner is held
to it; only superusers and roles with BYPASSRLS pass.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

POLICY_NAME = "tenant_isolation"
# '*' and '' become NULL before the cast (OR does not guarantee the order of evaluation).
VISIBLE = (
    "(current_setting('ats.tenant_ids', true) = '*' OR {column} = ANY (string_to_array("
    "NULLIF(NULLIF(current_setting('ats.tenant_ids', true), ''), '*'), ',')::bigint[]))"
)


VISIBLE_THROUGH = "(EXISTS (SELECT 1 FROM {parent} WHERE {parent}.id = {column}))"


class EnableTenantRowSecurity(migrations.operations.base.Operation):
    """Row-level security on a model's table, keyed on its tenant column; or, for a table
    without one (a many-to-many link), on a foreign key to a table that has it: a row is
    visible when the row it points to is."""

    reversible = True
    reduces_to_sql = True

    def __init__(
        self, model_name: str, column: str = "tenant_id", through: str | None = None
    ) -> None:
        self.model_name = model_name
        self.column = column
        self.through = through  # "app_label.ModelName" that `column` points to

    def deconstruct(self) -> tuple[str, list, dict]:
        kwargs: dict[str, str] = {}
        if self.column != "tenant_id":
            kwargs["column"] = self.column
        if self.through:
            kwargs["through"] = self.through
        return self.__class__.__qualname__, [self.model_name], kwargs

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        table = schema_editor.quote_name(self._table(app_label, to_state))
        column = schema_editor.quote_name(self.column)
        if self.through:
            parent = to_state.apps.get_model(self.through)._meta.db_table
            visible = VISIBLE_THROUGH.format(parent=schema_editor.quote_name(parent), column=column)
        else:
            visible = VISIBLE.format(column=column)
        schema_editor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        schema_editor.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        schema_editor.execute(
            f"CREATE POLICY {POLICY_NAME} ON {table} USING {visible} WITH CHECK {visible}"
        )

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        table = schema_editor.quote_name(self._table(app_label, from_state))
        schema_editor.execute(f"DROP POLICY IF EXISTS {POLICY_NAME} ON {table}")
        schema_editor.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        schema_editor.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")

    def describe(self) -> str:
        return f"Row-level security by {self.column} on {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"{self.model_name.lower()}_row_security"

    def _table(self, app_label: str, state: Any) -> str:
        return state.apps.get_model(app_label, self.model_name)._meta.db_table
