from django.db import connection


def test_main_suite_runs_on_postgresql(db) -> None:
    """`make test` must run the suite on PostgreSQL, never silently on SQLite."""
    assert connection.vendor == "postgresql", connection.vendor
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        assert cursor.fetchone()[0].startswith("PostgreSQL")
