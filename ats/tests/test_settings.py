"""Settings come from the environment and fail loudly when misconfigured."""

import pytest

from .subprocess_env import production_env, run_manage, run_python

pytestmark = pytest.mark.sqlite


def test_check_deploy_passes_with_production_variables(tmp_path) -> None:
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_with_insecure_settings(tmp_path) -> None:
    env = production_env(tmp_path, SESSION_COOKIE_SECURE="false", SECURE_SSL_REDIRECT="false")
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "security.W012" in result.stderr + result.stdout


def test_debug_off_without_secret_key_is_a_clear_error(tmp_path) -> None:
    env = production_env(tmp_path)
    del env["SECRET_KEY"]
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_debug_on_generates_a_persistent_key(tmp_path) -> None:
    env = production_env(tmp_path, DEBUG="true")
    del env["SECRET_KEY"]
    code = (
        "import django; django.setup()\n"
        "from django.conf import settings; print(settings.SECRET_KEY)"
    )
    first, second = run_python(code, env), run_python(code, env)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout and len(first.stdout.strip()) >= 50


def test_unsupported_database_url_is_a_clear_error(tmp_path) -> None:
    result = run_manage("check", env=production_env(tmp_path, DATABASE_URL="mysql://x@h/db"))
    assert result.returncode != 0
    assert "unsupported database" in result.stderr


def test_bad_log_format_is_a_clear_error(tmp_path) -> None:
    result = run_manage("check", env=production_env(tmp_path, LOG_FORMAT="xml"))
    assert result.returncode != 0
    assert "LOG_FORMAT" in result.stderr


def test_sqlite_default_uses_wal_and_immediate_transactions(tmp_path) -> None:
    env = production_env(tmp_path)
    del env["DATABASE_URL"]
    code = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "from django.db import connection\n"
        "db = settings.DATABASES['default']\n"
        "print(db['NAME'].endswith('var/ats.sqlite3'), db['OPTIONS']['transaction_mode'])\n"
    )
    result = run_python(code, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "IMMEDIATE"]


def test_sqlite_connection_is_in_wal_mode(tmp_path) -> None:
    code = (
        "import django; django.setup()\n"
        "from django.db import connection\n"
        "with connection.cursor() as c:\n"
        "    c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])\n"
        "    c.execute('PRAGMA busy_timeout'); print(c.fetchone()[0])\n"
    )
    result = run_python(code, production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["wal", "30000"]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgres//ats:s3cret@db/ats", "postgres//ats:***@db/ats"),  # the missing colon
        ("postgres://ats:pa/ss@db/ats", "postgres://ats:***@db/ats"),
        ("postgres://ats:p@ss@db/ats", "postgres://ats:***@db/ats"),
        ("ats:s3cret@db", "ats:***@db"),
        ("postgres://ats@db/ats", "postgres://ats@db/ats"),  # no password to hide
        ("not a url", "not a url"),
    ],
)
def test_a_malformed_database_url_is_shown_without_its_password(url: str, shown: str) -> None:
    from ats.settings import masked_url

    assert masked_url(url) == shown
