"""Fast inserts of many plain rows, for ingestion.

Django's `bulk_create` builds a model instance and prepares every value in Python, which
dominates ingestion time at tens of thousands of rows. On PostgreSQL, `bulk_insert` streams
the rows with COPY instead (values adapted by psycopg) into a temporary table, then moves
them with one INSERT … SELECT: PostgreSQL refuses COPY FROM into a table with row-level
security, and the INSERT checks each row against the tenant policy. Elsewhere it falls back
to `bulk_create`. Either way: no signals, no `save()`. Primary keys come back only from
`bulk_insert_with_ids`, which takes them from the table's sequence before inserting.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import connections, models, router, transaction
from django.db.models import JSONField

_staging_numbers = itertools.count()
_MISSING = object()


def bulk_insert(
    model: type[models.Model],
    rows: Iterable[Mapping[str, Any]],
    *,
    ignore_conflicts: bool = False,
) -> int:
    """Insert `rows` (field name → value); omitted fields get their model default.

    Returns the number of rows inserted. Constraint violations raise IntegrityError like any
    insert, so callers keep their transaction all-or-nothing; with `ignore_conflicts`, a row
    that violates a unique constraint is skipped instead (and not counted on PostgreSQL).
    """
    rows = list(rows)
    if not rows:
        return 0
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(
            [model(**row) for row in rows], ignore_conflicts=ignore_conflicts
        )
        return len(rows)

    with_pk = any(f.primary_key and f.name in rows[0] for f in model._meta.concrete_fields)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key or with_pk]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    # Unique in the session, so several inserts in one transaction need no DROP: every
    # staging table goes at commit.
    staging = quote(f"bulk_{next(_staging_numbers)}_{model._meta.db_table}"[:63])
    columns = ", ".join(quote(f.column) for f in fields)
    conflict = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    with (
        transaction.atomic(using=connection.alias, savepoint=False),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            f"CREATE TEMPORARY TABLE {staging} ON COMMIT DROP AS "
            f"SELECT {columns} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY {staging} ({columns}) FROM STDIN") as copy:
            write = copy.write_row
            for record in _records(fields, rows):
                write(record)
        cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging}{conflict}")
        return len(rows) if not ignore_conflicts else cursor.rowcount


def bulk_insert_with_ids(model: type[models.Model], rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """`bulk_insert`, returning the new rows' primary keys in the order of `rows`.

    On PostgreSQL the keys are taken from the table's sequence in one query before the
    insert; elsewhere `bulk_create` reads them back."""
    if not rows:
        return []
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        created = model._default_manager.bulk_create([model(**row) for row in rows])
        return [instance.pk for instance in created]
    pk = model._meta.pk
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, pk.column, len(rows)],
        )
        ids = [row[0] for row in cursor.fetchall()]
    bulk_insert(model, ({**row, pk.attname: i} for row, i in zip(rows, ids, strict=True)))
    return ids


def _records(fields: list[models.Field], rows: list[Mapping[str, Any]]) -> Iterable[list[Any]]:
    """Each row as the list of its column values, in the order of `fields`.

    Rows may name a foreign key by its field ("run") or its column attribute ("run_id"),
    and may name different fields (a metric's value column depends on its type): each set of
    names is mapped to the columns once."""
    # A field without a default gets what Django would store: "" for text, else NULL.
    defaults = [f.get_default() for f in fields]
    position = {f.attname: index for index, f in enumerate(fields)}
    position |= {f.name: index for index, f in enumerate(fields)}
    json_columns = [i for i, f in enumerate(fields) if isinstance(f, JSONField)]
    encoders = {i: fields[i].encoder for i in json_columns}
    relation_columns = [i for i, f in enumerate(fields) if f.is_relation]
    plans: dict[tuple[str, ...], list[int]] = {}
    for row in rows:
        names = tuple(row)
        plan = plans.get(names)
        if plan is None:
            plan = plans[names] = [position[name] for name in names]
        record = list(defaults)
        for index, value in zip(plan, row.values(), strict=True):
            record[index] = value
        for index in relation_columns:
            if isinstance(record[index], models.Model):
                record[index] = record[index].pk
        for index in json_columns:
            if record[index] is not None:
                # COPY's text format reads a JSON document from its text.
                record[index] = json.dumps(record[index], cls=encoders[index])
        yield record
