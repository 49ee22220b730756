"""Project-wide pytest setup: the database guard, the test database role, and the two-tenant
fixtures."""

from __future__ import annotations

import pytest

pytest_plugins = ["ats.tests.fixtures"]


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    from ats.tenant_scope import ALL_TENANTS, set_process_default

    # Test code sets up rows of several tenants, as a management command would; requests
    # made by the tests start with no tenant, as in production (TenantScopeMiddleware).
    set_process_default(ALL_TENANTS)
    sqlite = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
    if not sqlite and settings.TEST_DATABASE_ROLE:
        _create_test_database_role(settings.DATABASES["default"], settings.TEST_DATABASE_ROLE)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # `make test` checks for this file: a process that vanished mid-run (os._exit(0) from
    # code under test) would otherwise look like a passing suite.
    import os
    from pathlib import Path

    if marker := os.environ.get("ATS_TEST_FINISHED_FILE"):
        Path(marker).write_text(f"{exitstatus}\n")


def _create_test_database_role(database: dict, role: str) -> None:
    """The role the tests run as: no superuser, no BYPASSRLS, so row-level security holds
    for them as for the application in production. It owns the test database it creates."""
    import psycopg
    from psycopg import sql

    params = {
        "dbname": "postgres",
        "user": database["USER"],
        "password": database["PASSWORD"] or None,
        "host": database["HOST"] or None,
        "port": database["PORT"] or None,
    }
    try:
        with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
            # CREATEROLE: some tests make roles of their own (a worker with few connections).
            if not exists:
                conn.execute(
                    sql.SQL(
                        "CREATE ROLE {} NOLOGIN NOSUPERUSER NOBYPASSRLS CREATEDB CREATEROLE"
                    ).format(sql.Identifier(role))
                )
            else:
                conn.execute(sql.SQL("ALTER ROLE {} CREATEROLE").format(sql.Identifier(role)))
            conn.execute(
                sql.SQL("GRANT {} TO {}").format(
                    sql.Identifier(role), sql.Identifier(database["USER"])
                )
            )
    except psycopg.Error as exc:
        raise pytest.UsageError(
            f"Could not prepare the test database role {role!r} as {database['USER']!r}: "
            f"{exc}. The tests need a PostgreSQL user that may create roles (CREATEROLE), "
            "as `make test` sets up."
        ) from exc


@pytest.hookimpl(trylast=True)  # after `-m` has deselected
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On SQLite only SQLite-marked tests may run: PostgreSQL tests never pass silently
    on the wrong database, and are never skipped silently either."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        return
    unmarked = [item.nodeid for item in items if item.get_closest_marker("sqlite") is None]
    if unmarked:
        raise pytest.UsageError(
            f"DATABASE_URL points at SQLite, but {len(unmarked)} selected tests need "
            f"PostgreSQL (e.g. {unmarked[0]}). Run `make test`, or select the SQLite subset "
            "with `-m sqlite`."
        )
