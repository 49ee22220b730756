"""What the benchmark knows of each system: its database, how to start its worker, how to
feed it (through its client module) and how to see that it finished."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


@dataclass(frozen=True)
class System:
    key: str
    label: str
    # The client module (bench.queue_systems.<name>) and the database suffix.
    module: str
    database: str
    # What `enqueue KIND N` enqueues: `noop` or `noop_atomic`.
    kind: str
    # The worker's command line (relative to the project) and environment.
    worker_argv: tuple[str, ...]
    # Rows of jobs not yet finished (queued or running), and the statement that empties
    # the queue.
    pending_sql: str
    reset_sql: str
    # Exact configuration, for docs/benchmarks.md.
    config: str
    worker_env: dict[str, str] = field(default_factory=dict)
    # Start latency is measured once per worker configuration (plain and atomic share it).
    measures_latency: bool = True

    def env(self, url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": url,
            "PYTHONUNBUFFERED": "1",
            **self.worker_env,
            **(extra or {}),
        }

    def client(self, url: str, *args: str, timeout: float = 600) -> dict:
        """Run one client command in its own process; its JSON answer."""
        result = subprocess.run(
            [PYTHON, "-m", self.module, *args],
            cwd=BASE_DIR,
            env=self.env(url, {PENDING_ENV: self.pending_sql}),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{self.key}: `{' '.join(args)}` failed ({result.returncode}):\n{result.stderr}"
            )
        return json.loads(result.stdout.strip().splitlines()[-1])

    def start_worker(self, url: str, log: Path, extra_env: dict[str, str]) -> subprocess.Popen:
        out = log.open("ab")
        try:
            return subprocess.Popen(
                [PYTHON, *self.worker_argv],
                cwd=BASE_DIR,
                env=self.env(url, extra_env),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        finally:
            out.close()


def version_of(distribution: str) -> str:
    """The installed version of a package, or why there is none."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "(not installed)"


def emit(answer: dict) -> None:
    print(json.dumps(answer), flush=True)


PENDING_ENV = "BENCH_PENDING_SQL"
WARMUP_JOBS = 100


def wait_until_empty(timeout: float = 120.0) -> float:
    """In a client: poll the system's database until no job is queued or running; returns
    when (time.time())."""
    import psycopg

    query = f"SELECT EXISTS ({os.environ[PENDING_ENV]})"
    deadline = time.monotonic() + timeout
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        while conn.execute(query).fetchone()[0]:
            if time.monotonic() > deadline:
                raise SystemExit(f"jobs still pending after {timeout:.0f}s")
            time.sleep(0.01)
    return time.time()


def timed_enqueue(enqueue: Callable[[int], None], count: int) -> dict:
    """Warm the workers up (WARMUP_JOBS jobs, waited for), then enqueue `count` jobs, timed
    up to their commit."""
    enqueue(WARMUP_JOBS)
    wait_until_empty()
    started = time.perf_counter()
    enqueue(count)
    return {"seconds": time.perf_counter() - started, "committed_at": time.time()}


def paced(enqueue_one: Callable[[int], None], count: int, gap: float) -> dict:
    """Warm up with one job, then enqueue `count` jobs one at a time `gap` seconds apart;
    the time.time() of each commit."""
    enqueue_one(-1)
    wait_until_empty()
    enqueued = []
    next_at = time.monotonic()
    for seq in range(count):
        enqueue_one(seq)
        enqueued.append(time.time())
        next_at += gap
        time.sleep(max(0.0, next_at - time.monotonic()))
    return {"enqueued": enqueued}
