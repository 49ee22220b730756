"""What the benchmark knows of each system: its database, how to start its worker, how to
feed it (through its client module) and how to see that it finished."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
            env=self.env(url),
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


def emit(answer: dict) -> None:
    print(json.dumps(answer), flush=True)
