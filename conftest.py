"""Project-wide pytest setup: the database guard and the two-tenant fixtures."""

from __future__ import annotations

import pytest

pytest_plugins = ["ats.tests.fixtures"]


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
