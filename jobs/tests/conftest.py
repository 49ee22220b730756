from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .utils import WorkerRun, subprocess_env


@pytest.fixture
def start_worker(transactional_db: None, tmp_path: Path) -> Iterator[Callable[..., WorkerRun]]:
    """`start_worker("--burst", "--concurrency", "2", env={...}, clock_offset=None)`: a real
    worker process on the test database (with its clock `clock_offset` seconds off). Any
    still running at the end are killed before the database is flushed."""
    runs: list[WorkerRun] = []

    def start(
        *args: str, env: dict[str, str] | None = None, clock_offset: float | None = None
    ) -> WorkerRun:
        env = dict(env or {})
        if clock_offset is not None:
            env["CLOCK_OFFSET"] = str(clock_offset)
        run = WorkerRun(
            list(args),
            tmp_path / f"worker-{len(runs)}.log",
            subprocess_env(**env),
            skewed=clock_offset is not None,
        )
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.stop()
