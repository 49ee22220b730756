"""The floor of `bench/ingest.py`: the rows one ingestion wrote, COPY'd into the same tables.

COPY refuses tables with row-level security, so this works through a connection of the
connecting superuser (or a BYPASSRLS role), never the application's role. No Django here.
"""

from __future__ import annotations

import io
import os
import time
from pathlib import Path
from typing import Any

import psycopg

# What ingestion writes, parents first: table → the filter of the rows one ingestion wrote.
# `{tenant}`, `{run}` and `{after}` (the table's largest id before ingestion) are filled in.
WRITTEN = {
    "research_source": "tenant_id = {tenant} AND id > {after}",
    "research_runsource": "run_id = '{run}' AND id > {after}",
    "ats_company": "tenant_id = {tenant} AND id > {after}",
    "ats_companyalias": "tenant_id = {tenant} AND id > {after}",
    "research_prospect": "tenant_id = {tenant} AND id > {after}",
    "research_prospectevidence": "tenant_id = {tenant} AND id > {after}",
    "research_prospectmetric": "tenant_id = {tenant} AND id > {after}",
}


class Cpu:
    """CPU time used by this process and by one PostgreSQL backend (read from /proc when
    the server runs on this machine)."""

    def __init__(self, backend_pid: int) -> None:
        self.stat = Path(f"/proc/{backend_pid}/stat")
        self.ticks = os.sysconf("SC_CLK_TCK")

    def now(self) -> tuple[float, float | None]:
        try:
            fields = self.stat.read_text().rsplit(")", 1)[1].split()
            server = (int(fields[11]) + int(fields[12])) / self.ticks  # utime + stime
        except (OSError, IndexError, ValueError):
            server = None
        return time.process_time(), server

    def since(self, start: tuple[float, float | None]) -> tuple[float, float | None]:
        end = self.now()
        server = None if end[1] is None or start[1] is None else end[1] - start[1]
        return end[0] - start[0], server


class BenchError(Exception):
    """A setup problem, said in one line."""


def superuser_connection(db: dict[str, Any], dbname: str) -> psycopg.Connection:
    """The connecting user of the settings' database `db` itself (not the tests' role), for
    what needs to bypass row-level security: reading back and COPYing the floor's rows."""
    params = {"dbname": dbname, "user": db["USER"], "password": db["PASSWORD"]}
    params |= {"host": db["HOST"], "port": db["PORT"]}
    conn = psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True)
    row = conn.execute(
        "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
    ).fetchone()
    if not row or not row[0]:
        conn.close()
        raise BenchError(
            f"the floor needs COPY into tables with row-level security: connect as a superuser "
            f"or a BYPASSRLS role (DATABASE_URL's user {db['USER']!r} is neither)"
        )
    return conn


def largest_ids(admin: psycopg.Connection) -> dict[str, int]:
    return {
        table: admin.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]
        for table in WRITTEN
    }


def copy_floor(admin: psycopg.Connection, *, tenant_id: int, run_id: Any, after: dict) -> tuple:
    """The rows ingestion wrote, read back, deleted, vacuumed and COPY'd into their tables in
    one transaction: (seconds, of which the commit, rows per table, CPU used)."""
    filters = {
        table: where.format(tenant=tenant_id, run=run_id, after=after[table])
        for table, where in WRITTEN.items()
    }
    dumps: dict[str, tuple[str, bytes, int]] = {}
    for table, where in filters.items():
        columns = ", ".join(
            f'"{name}"'
            for (name,) in admin.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
                "AND NOT attisdropped ORDER BY attnum",
                [table],
            )
        )
        buffer = io.BytesIO()
        with admin.cursor().copy(
            f"COPY (SELECT {columns} FROM {table} WHERE {where}) TO STDOUT (FORMAT binary)"
        ) as copy:
            for chunk in copy:
                buffer.write(chunk)
        count = admin.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0]
        dumps[table] = (columns, buffer.getvalue(), count)
    with admin.transaction():
        for table in reversed(WRITTEN):  # children first
            admin.execute(f"DELETE FROM {table} WHERE {filters[table]}")
    for table in WRITTEN:
        admin.execute(f"VACUUM (ANALYZE) {table}")

    cpu = Cpu(admin.info.backend_pid)
    cpu_start = cpu.now()
    started = time.perf_counter()
    with admin.transaction():
        for table, (columns, data, _) in dumps.items():
            with admin.cursor().copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT binary)") as c:
                c.write(data)
        copied = time.perf_counter()
    ended = time.perf_counter()
    seconds, commit = ended - started, ended - copied  # commit: the deferred FK checks, mostly
    used = cpu.since(cpu_start)
    for table, (_, _, count) in dumps.items():
        (found,) = admin.execute(f"SELECT count(*) FROM {table} WHERE {filters[table]}").fetchone()
        if found != count:
            raise BenchError(f"the floor copied {found} rows into {table}, not {count}")
    return seconds, commit, {table: count for table, (_, _, count) in dumps.items()}, used
