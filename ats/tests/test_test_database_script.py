"""`make test` finds or starts PostgreSQL (bin/with-test-postgres) and never falls back
silently: these run the real script."""

import os
import subprocess
import sys

from .subprocess_env import BASE_DIR

SCRIPT = str(BASE_DIR / "bin" / "with-test-postgres")
PROBE = (
    "import os, psycopg; url = os.environ['DATABASE_URL']; "
    "print(url); print(psycopg.connect(url).execute('select 1').fetchone()[0])"
)


def run_script(env: dict[str, str], *command: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, SCRIPT, *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=BASE_DIR,
    )


def test_starts_a_throwaway_cluster_when_no_server_answers() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["ATS_TEST_PG_PORT"] = "1"  # nothing listens there: no local server
    result = run_script(env, sys.executable, "-c", PROBE)
    assert result.returncode == 0, result.stderr
    assert "throwaway cluster" in result.stderr
    url, answer = result.stdout.split()
    assert url.startswith("postgres://postgres@127.0.0.1:") and answer == "1"
    # The cluster is gone afterwards.
    data_dir = result.stderr.split("throwaway cluster in ")[1].split()[0]
    assert not os.path.exists(data_dir)


def test_sqlite_database_url_is_refused_loudly() -> None:
    env = {**os.environ, "DATABASE_URL": "sqlite:///var/x.sqlite3"}
    result = run_script(env, sys.executable, "-c", "print('ran')")
    assert result.returncode == 2
    assert "runs on PostgreSQL" in result.stderr
    assert "ran" not in result.stdout


def test_exit_code_of_the_command_is_passed_on() -> None:
    result = run_script(dict(os.environ), sys.executable, "-c", "raise SystemExit(7)")
    assert result.returncode == 7
