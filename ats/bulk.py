"""Fast inserts of many plain rows, for ingestion.

Django's `bulk_create` builds a model instance and prepares every value in Python, which
dominates ingestion time at tens of thousands of rows. On PostgreSQL, `bulk_insert` streams
the rows with COPY instead (values adapted by psycopg) into a temporary table, then moves
them with one INSERT … SELECT: PostgreSQL refuses COPY FROM into a table with row-level
security, and the INSERT checks each row against the tenant policy. Elsewhere it falls back
to `bulk_create`. Either way: no signals, no `save()`, and no primary keys come back —
read them afterwards by a natural key when needed.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import connections, models, router, transaction
from django.db.models import JSONField

_staging_numbers = itertools.count()


def bulk_insert(model: type[models.Model], rows: Iterable[Mapping[str, Any]]) -> int:
    """Insert `rows` (field name → value); omitted fields get their model default.

    Returns the number of rows inserted. Constraint violations raise IntegrityError like any
    insert, so callers keep their transaction all-or-nothing.
    """
    rows = list(rows)
    if not rows:
        return 0
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create([model(**row) for row in rows])
        return len(rows)

    fields = [f for f in model._meta.concrete_fields if not f.primary_key or f.name in rows[0]]
    # A field without a default gets what Django would store: "" for text, else NULL.
    defaults = {f.attname: f.get_default() for f in fields}
    json_fields = {f.attname for f in fields if isinstance(f, JSONField)}
    names = [f.attname for f in fields]
    # Rows may name a foreign key by its field ("run") or its column attribute ("run_id").
    aliases = {f.name: f.attname for f in fields if f.name != f.attname}

    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    # Unique in the session, so several inserts in one transaction need no DROP: every
    # staging table goes at commit.
    staging = quote(f"bulk_{next(_staging_numbers)}_{model._meta.db_table}"[:63])
    columns = ", ".join(quote(f.column) for f in fields)
    with (
        transaction.atomic(using=connection.alias, savepoint=False),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            f"CREATE TEMPORARY TABLE {staging} ON COMMIT DROP AS "
            f"SELECT {columns} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY {staging} ({columns}) FROM STDIN") as copy:
            for row in rows:
                values = {aliases.get(key, key): value for key, value in row.items()}
                record = []
                for name in names:
                    value = values[name] if name in values else defaults.get(name)
                    if isinstance(value, models.Model):
                        value = value.pk
                    if name in json_fields and value is not None:
                        value = connection.ops.adapt_json_value(value, None)
                    record.append(value)
                copy.write_row(record)
        cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging}")
    return len(rows)
