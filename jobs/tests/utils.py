"""Helpers of the jobs tests: bounded waits and real worker processes on the test database."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from ats.tests.subprocess_env import BASE_DIR, child_database_url, inherited_env

# Small leases so that crash recovery is quick; every wait below is bounded.
FAST_QUEUE_ENV = {
    "JOBS_HEARTBEAT_INTERVAL": "0.2",
    "JOBS_LEASE_TIMEOUT": "2",
    "JOBS_POLL_INTERVAL": "0.2",
    "JOBS_RETRY_BASE": "0.1",
    "JOBS_RETRY_MAX": "1",
    # Keep connections as production does (the test process itself uses 0).
    "CONN_MAX_AGE": "60",
}


def wait_until[T](
    predicate: Callable[[], T], *, timeout: float = 30.0, message: str = "a condition"
) -> T:
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout}s waiting for {message}.")
        time.sleep(0.02)


def subprocess_env(**overrides: str) -> dict[str, str]:
    env = {
        **inherited_env(),
        "DJANGO_SETTINGS_MODULE": "ats.settings_test",
        "DATABASE_URL": child_database_url(),
        "PYTHONUNBUFFERED": "1",
        **FAST_QUEUE_ENV,
    }
    env.update(overrides)
    return env


class WorkerRun:
    """A `manage.py runworker` child process; its output goes to a file (no pipe to fill)."""

    def __init__(
        self, args: list[str], log_path: Path, env: dict[str, str], *, skewed: bool = False
    ) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        # skewed: the worker's clock is off by env["CLOCK_OFFSET"] seconds.
        entry = ["jobs/tests/skewed_worker.py"] if skewed else ["manage.py", "runworker"]
        self.process = subprocess.Popen(
            [sys.executable, *entry, *args],
            cwd=BASE_DIR,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def send(self, signum: int = signal.SIGTERM) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float = 60.0) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(
                f"runworker did not exit within {timeout}s. Output:\n{self.output()}"
            ) from None

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._log.close()


def age_jobs(seconds: float) -> None:
    """Let `seconds` pass on the queue's clock: the database's, which tests cannot freeze.
    Moves every job's timestamps that long into the past instead."""
    from django.db.models import F

    from jobs.models import Job

    delta = timedelta(seconds=seconds)
    Job.objects.update(
        run_after=F("run_after") - delta,
        created_at=F("created_at") - delta,
        locked_at=F("locked_at") - delta,
        heartbeat_at=F("heartbeat_at") - delta,
        started_at=F("started_at") - delta,
    )


# Runs a management command and SIGKILLs it right after its Nth batch of a pass commits (the
# backfill base's progress advances once per committed batch).
KILLER = """
import os, signal, sys
import django
django.setup()
from django.core.management import call_command
from ats.management import backfill
label, after = sys.argv[1], int(sys.argv[2])
seen = 0
advance = backfill.Progress.advance
def advance_then_die(self, n):
    global seen
    advance(self, n)
    if self.label.endswith(label):
        seen += 1
        if seen == after:
            os.kill(os.getpid(), signal.SIGKILL)
backfill.Progress.advance = advance_then_die
call_command(*sys.argv[3:])
"""


def run_killed(label: str, after_batches: int, *command: str) -> subprocess.CompletedProcess:
    """Run `manage.py <command>` in a child process on the test database and kill it (-9)
    right after the `after_batches`th batch of the pass whose label ends with `label`."""
    result = subprocess.run(
        [sys.executable, "-c", KILLER, label, str(after_batches), *command],
        cwd=BASE_DIR,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr
    return result
