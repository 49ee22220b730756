"""`bin/devserver` (what `make run` serves with), as real processes: closing the terminal
(SIGHUP) stops gunicorn and the worker too; a port in use is one line and a non-zero exit.
Every wait polls with a deadline."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jobs.models import WorkerProcess
from jobs.tests.utils import subprocess_env, wait_until

from .subprocess_env import BASE_DIR, free_port

DEVSERVER = BASE_DIR / "bin" / "devserver"
DEADLINE = 60.0
pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name; None when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"  # a zombie has exited


def descendants(pid: int) -> set[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            parents[int(entry.name)] = int(fields[1])
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        children = {child for child, ppid in parents.items() if ppid == parent}
        found |= children
        todo.extend(children)
    return found


def healthy(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False


@pytest.mark.django_db(transaction=True)
def test_closing_the_terminal_stops_gunicorn_and_the_worker(tmp_path: Path) -> None:
    port = free_port()
    gone = subprocess.Popen(["true"])  # a devserver killed earlier left its metrics behind
    gone.wait()
    stale_metrics = BASE_DIR / "var" / "prometheus" / f"devserver-{gone.pid}"
    stale_metrics.mkdir(parents=True, exist_ok=True)
    log = (tmp_path / "devserver.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, str(DEVSERVER)],
        cwd=BASE_DIR,
        env=subprocess_env(BIND=f"127.0.0.1:{port}"),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # a terminal of its own: our SIGHUP reaches it alone
    )
    family: set[int] = set()
    all_stopped = False
    try:
        wait_until(lambda: healthy(port), timeout=DEADLINE, message="gunicorn's /healthz")
        assert not stale_metrics.exists()
        wait_until(WorkerProcess.objects.exists, timeout=DEADLINE, message="the job worker")
        family = wait_until(
            lambda: (found := descendants(server.pid)) and len(found) >= 4 and found,
            timeout=DEADLINE,
            message="gunicorn's master, its two workers and the job worker",
        )

        server.send_signal(signal.SIGHUP)

        assert server.wait(timeout=DEADLINE) == 0
        wait_until(
            lambda: not any(alive(pid) for pid in family),
            timeout=DEADLINE,
            message="every child to exit",
        )
        assert not healthy(port)
        output = (tmp_path / "devserver.log").read_text()
        assert "Stopping (terminal closed)" in output
        assert "stopped: 0 succeeded, 0 failed" in output  # the worker's graceful stop
        all_stopped = True
    finally:
        # After a failure only (when all stopped, their pids may already be someone else's).
        # The children run in sessions of their own: killing the devserver's group would not
        # reach them, and a worker left behind would take later tests' jobs.
        if not all_stopped:
            server.kill()  # nothing if it was reaped
            for pid in filter(alive, family):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        server.wait(timeout=DEADLINE)
        log.close()


@pytest.mark.sqlite
@pytest.mark.parametrize("args", [[], ["--prepare"]], ids=["serve", "prepare"])
def test_a_port_in_use_is_one_line_with_what_to_do(args: list[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, str(DEVSERVER), *args],
            cwd=BASE_DIR,
            env={**os.environ, "BIND": f"127.0.0.1:{port}"},
            capture_output=True,
            text=True,
            timeout=DEADLINE,
        )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stdout == "", result.stderr
    assert f"Port {port} on 127.0.0.1 is already in use" in result.stderr
    assert f"BIND=127.0.0.1:{port + 1} make run" in result.stderr
    assert time.monotonic() - started < 10  # reported at once, nothing started


@pytest.mark.sqlite
def test_a_bind_that_is_not_host_and_port() -> None:
    result = subprocess.run(
        [sys.executable, str(DEVSERVER), "--prepare"],
        cwd=BASE_DIR,
        env={**os.environ, "BIND": "localhost"},
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "ERROR: BIND='localhost' is not host:port; use e.g. BIND=127.0.0.1:8001 make run"
    )
