"""PostgreSQL, with the tenant scope of `ats.tenant_scope` applied to every transaction.

Each statement that reads or writes rows runs in a transaction whose `ats.tenant_ids` setting
(transaction-local, as `SET LOCAL`: safe behind PgBouncer in transaction mode) is the current
scope, which the row-level security policies of the tenant tables compare with:
- inside `transaction.atomic()`, the setting is applied once, before the transaction's first
  statement, and again only when the scope changes or a savepoint rollback may have undone it;
- in autocommit, a statement under a tenant or system scope runs in a short transaction of
  its own with the setting (two extra round trips; the worker's queue statements run with no
  scope and pay nothing: the jobs table has no row-level security).
"""

from __future__ import annotations

from typing import Any

from django.db.backends.postgresql import base
from psycopg import pq

from ats.tenant_scope import current_scope, setting_value

SET_SCOPE_SQL = "SELECT set_config('ats.tenant_ids', %s, true)"
# Statements that touch rows and may run inside a transaction block. Others (LISTEN, VACUUM,
# CREATE INDEX CONCURRENTLY, SET ...) run as they are.
ROW_STATEMENTS = ("select", "insert", "update", "delete", "with", "merge", "values", "table")


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The setting applied in the current transaction; None when unknown.
        self.scope_applied: str | None = None
        self.execute_wrappers.append(_with_tenant_scope)

    def ensure_tenant_scope(self) -> None:
        """Apply the scope to the current transaction now: for statements that bypass the
        cursor's execute (COPY). Must be called inside `transaction.atomic()`."""
        self.ensure_connection()
        _apply_in_transaction(self, setting_value(current_scope()))


def _with_tenant_scope(execute: Any, sql: str, params: Any, many: bool, context: dict) -> Any:
    db: DatabaseWrapper = context["connection"]
    value = setting_value(current_scope())
    if db.get_autocommit():
        if not value or not _is_row_statement(sql):
            return execute(sql, params, many, context)
        with db.wrap_database_errors, db.connection.transaction():
            db.connection.execute(SET_SCOPE_SQL, [value])
            return execute(sql, params, many, context)
    _apply_in_transaction(db, value)
    result = execute(sql, params, many, context)
    if sql.lstrip()[:21].upper() == "ROLLBACK TO SAVEPOINT":
        db.scope_applied = None  # it may have undone a setting made after the savepoint
    return result


def _apply_in_transaction(db: DatabaseWrapper, value: str) -> None:
    if db.connection.info.transaction_status == pq.TransactionStatus.IDLE:
        db.scope_applied = ""  # the next statement opens a transaction with no setting yet
    if db.scope_applied != value:
        db.connection.execute(SET_SCOPE_SQL, [value])
        db.scope_applied = value


def _is_row_statement(sql: str) -> bool:
    return sql.lstrip(" \n\t(").split(None, 1)[0].lower() in ROW_STATEMENTS
