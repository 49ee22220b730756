from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .utils import WorkerRun, subprocess_env


@pytest.fixture
def start_worker(transactional_db: None, tmp_path: Path) -> Iterator[Callable[..., WorkerRun]]:
    """`start_worker("--burst", "--concurrency", "2", env={...})`: a real worker process on
    the test database. Any still running at the end are killed before the database is
    flushed."""
    runs: list[WorkerRun] = []

    def start(*args: str, env: dict[str, str] | None = None) -> WorkerRun:
        run = WorkerRun(
            list(args), tmp_path / f"worker-{len(runs)}.log", subprocess_env(**(env or {}))
        )
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.stop()
