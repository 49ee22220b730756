"""Helpers for tests that run manage.py or Python in a child process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

from django.db import connection

BASE_DIR = Path(__file__).resolve().parents[2]


# Set by the browser tests for their own process only: no child may inherit it.
TEST_PROCESS_ONLY = frozenset({"DJANGO_ALLOW_ASYNC_UNSAFE"})


def inherited_env(
    *, without: set[str] = frozenset(), prefixes: tuple[str, ...] = ()
) -> dict[str, str]:
    """This process's environment for a child: without what the test process set for itself
    only, the names in `without` and the names starting with one of `prefixes`."""
    dropped = TEST_PROCESS_ONLY | without
    return {
        key: value
        for key, value in os.environ.items()
        if key not in dropped and not (prefixes and key.startswith(prefixes))
    }


def child_database_url(name: str | None = None) -> str:
    """The URL of the database this test runs on (the test database), for subprocesses; or
    of the database `name` on the same PostgreSQL server."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user = quote(settings["USER"], safe="")
    password = f":{quote(settings['PASSWORD'], safe='')}" if settings.get("PASSWORD") else ""
    return (
        f"postgres://{user}{password}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}/{name or settings['NAME']}"
    )


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """An environment like production's: DEBUG off, a real secret, HTTPS on."""
    env = inherited_env(
        without={"DJANGO_SETTINGS_MODULE", "DEBUG", "SECRET_KEY", "DATABASE_URL"},
        prefixes=("SECURE_",),
    )
    env.update(
        DJANGO_SETTINGS_MODULE="ats.settings",
        DEBUG="false",
        SECRET_KEY="k3y-" + "x7Qp9vZr2LmT4sWn8bYc" * 3,
        ALLOWED_HOSTS="ats.example.com",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    env.update(overrides)
    return env


def run_python(code: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_manage(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    """A port nothing listens on now (bound and released: the kernel does not hand it out
    again at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
