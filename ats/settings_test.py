"""Test settings: the production settings with a throwaway secret and fast hashing.

The database still comes from DATABASE_URL: `make test` points it at PostgreSQL for the
main run and at a SQLite file for the SQLite-marked run.
"""

import os
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")

from .settings import *  # noqa: F403
from .settings import DATABASES, VAR_DIR

# The role the tests act as (conftest.py creates it); empty: the connecting user itself.
TEST_DATABASE_ROLE = os.environ.get("TEST_DATABASE_ROLE", "ats_test_app")

DEBUG = False
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
# Serve static files from the apps directly: tests never run collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# The jobs app's test handlers and models, importable by worker subprocesses too.
INSTALLED_APPS = [*INSTALLED_APPS, "jobs.tests.testapp"]  # noqa: F405

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so that worker subprocesses share the test database. It is named
    # after the DATABASE_URL's file, beside it, so that parallel runs with their own URLs
    # never collide (test-x.sqlite3 for x.sqlite3).
    _sqlite_file = (
        Path(DATABASES["default"]["NAME"])
        if DATABASES["default"]["NAME"] != ":memory:"
        else VAR_DIR / "test" / "ats.sqlite3"
    )
    _sqlite_file.parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["TEST"] = {
        "NAME": str(_sqlite_file.with_name(f"test-{_sqlite_file.name}"))
    }
# The tests run as a role that is neither a superuser nor allowed to bypass row-level
# security (conftest.py creates it), so every test also exercises the tenant policies.
elif TEST_DATABASE_ROLE:
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = f"-c role={TEST_DATABASE_ROLE}"
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3" and (
    "CONN_MAX_AGE" not in os.environ
):
    # Tests never reuse a connection across threads' lifetimes; keep them short-lived.
    # (Worker subprocesses of the jobs tests set CONN_MAX_AGE to keep theirs, as in
    # production, instead of reconnecting for every job.)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
