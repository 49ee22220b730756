"""`manage.py` misconfigured: one line on stderr saying what to do, exit status 1, never a
traceback (unless asked for with --traceback). Real child processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from .subprocess_env import free_port, production_env, run_manage

# No database of the test run is used: these run on SQLite too.
pytestmark = pytest.mark.sqlite

PASSWORD = "s3cret-pw"


def _one_error_line(result: object) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


def test_a_url_that_is_not_a_database_url(tmp_path: Path) -> None:
    env = production_env(tmp_path, DATABASE_URL="postgres//ats@localhost/ats")
    line = _one_error_line(run_manage("create_api_key", "--help", env=env))
    assert "DATABASE_URL is not a database URL ('postgres//ats@localhost/ats')" in line
    assert "postgres://user:password@host:5432/name" in line


def test_an_unreachable_database_names_it_without_its_password(tmp_path: Path) -> None:
    port = free_port()
    url = f"postgres://ats:{PASSWORD}@127.0.0.1:{port}/ats"
    env = production_env(tmp_path, DATABASE_URL=url)
    line = _one_error_line(
        run_manage("create_api_key", "--tenant", "demo", "--role", "analyst", env=env)
    )
    assert f"Cannot connect to the database postgres://ats@127.0.0.1:{port}/ats" in line
    assert "Connection refused" in line and "DATABASE_URL" in line
    assert PASSWORD not in line


def test_production_mode_without_a_secret_key(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    del env["SECRET_KEY"]
    line = _one_error_line(run_manage("check", env=env))
    assert "SECRET_KEY is not set" in line and "DEBUG=true" in line


def test_an_unmigrated_database_says_to_migrate(tmp_path: Path) -> None:
    env = production_env(tmp_path)  # a fresh SQLite file: no tables
    line = _one_error_line(
        run_manage("create_api_key", "--tenant", "demo", "--role", "analyst", env=env)
    )
    assert f"sqlite:///{tmp_path / 'db.sqlite3'} is not migrated (no table ats_tenant)" in line
    assert "manage.py migrate` first" in line


def test_traceback_when_asked_for(tmp_path: Path) -> None:
    env = production_env(tmp_path, DATABASE_URL="postgres//ats@localhost/ats")
    result = run_manage("check", "--traceback", env=env)
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "ImproperlyConfigured" in result.stderr


def test_a_failure_that_is_not_a_setup_problem_keeps_its_traceback_in_a_file(
    tmp_path: Path,
) -> None:
    env = production_env(tmp_path, TMPDIR=str(tmp_path))
    run_manage("migrate", "-v0", env=env)
    line = _one_error_line(run_manage("shell", "-c", "raise KeyError('boom')", env=env))

    assert line.startswith("Error: KeyError: 'boom' (run again with --traceback")
    kept = Path(line.rsplit("its traceback is in ", 1)[1])
    assert kept.parent == tmp_path
    assert "Traceback" in kept.read_text() and "KeyError: 'boom'" in kept.read_text()


@pytest.mark.parametrize(
    ("driver_says", "cannot_connect"),
    [
        ('connection failed: connection to server at "127.0.0.1", port 1 failed: refused', True),
        ("failed to resolve host 'db.invalid': [Errno -2] Name or service not known", True),
        (  # a Unix socket (postgres:///ats) with the server stopped
            'connection is bad: connection to server on socket "/run/postgresql/.s.PGSQL.5432" '
            "failed: No such file or directory\n\tIs the server running locally?",
            True,
        ),
        ("connection timeout expired", True),
        ("unable to open database file", True),
        ("canceling statement due to statement timeout", False),
        ("canceling statement due to lock timeout", False),
        ("terminating connection due to administrator command", False),
    ],
)
def test_only_a_connection_that_cannot_be_made_is_called_unreachable(
    driver_says: str, cannot_connect: bool, settings: object
) -> None:
    from django.db import OperationalError

    from ats.entry import one_line

    line = one_line(OperationalError(driver_says))

    assert line.startswith("Cannot connect to the database") is cannot_connect, line


@pytest.mark.parametrize(
    ("host", "options", "label"),
    [
        ("", {}, "postgres://ats@/ats (the local Unix socket)"),
        ("", {"host": "/tmp/pg"}, "postgres://ats@/ats (the Unix socket in /tmp/pg)"),
        ("db.example.com", {}, "postgres://ats@db.example.com:5433/ats"),
    ],
)
def test_a_database_behind_a_unix_socket_is_named_as_one(
    host: str, options: dict, label: str, monkeypatch
) -> None:
    from django.conf import settings

    from ats.entry import _database_label

    config = {"ENGINE": "django.db.backends.postgresql", "NAME": "ats", "USER": "ats"}
    config |= {"HOST": host, "PORT": "5433", "OPTIONS": options}
    monkeypatch.setitem(settings.DATABASES, "default", config)
    assert _database_label() == label
