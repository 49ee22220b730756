"""procrastinate (psycopg 3 async connector): `batch_defer_async`, a worker with
concurrency 10 (its default is 1), async no-op tasks."""

from __future__ import annotations

import asyncio
import os
import sys
import time

from .base import WARMUP_JOBS, System, emit, version_of, wait_until_empty
from .stamps import stamp

CONCURRENCY = 10


def system() -> System:
    return System(
        key="procrastinate",
        label="procrastinate",
        module=__name__,
        database="procrastinate",
        kind="noop",
        worker_argv=("-m", __name__, "worker"),
        pending_sql=("SELECT 1 FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"),
        reset_sql="TRUNCATE procrastinate_jobs CASCADE",
        config=(
            f"procrastinate {version_of('procrastinate')}, PsycopgConnector (psycopg "
            f"{version_of('psycopg')}); run_worker_async(concurrency={CONCURRENCY}), "
            "other options default (LISTEN/NOTIFY on); async no-op tasks; batch_defer_async"
        ),
    )


def version() -> str:
    return f"procrastinate {version_of('procrastinate')}"


def _app():
    import procrastinate

    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=os.environ["DATABASE_URL"])
    )

    @app.task(name="noop")
    async def noop() -> None:
        pass

    @app.task(name="stamp")
    async def stamp_start(seq: int) -> None:
        stamp(seq)

    return app, noop, stamp_start


async def run(command: str, argv: list[str]) -> dict:
    app, noop, stamp_start = _app()
    async with app.open_async():
        if command == "setup":
            await app.schema_manager.apply_schema_async()
            return {"ok": True}
        if command == "worker":
            await app.run_worker_async(concurrency=CONCURRENCY)
            return {}
        if command == "enqueue":
            await noop.batch_defer_async(*[{} for _ in range(WARMUP_JOBS)])
            await asyncio.to_thread(wait_until_empty)
            count = int(argv[1])
            started = time.perf_counter()
            await noop.batch_defer_async(*[{} for _ in range(count)])
            return {"seconds": time.perf_counter() - started, "committed_at": time.time()}
        if command == "latency":
            await stamp_start.defer_async(seq=-1)
            await asyncio.to_thread(wait_until_empty)
            count, gap = int(argv[0]), float(argv[1])
            enqueued = []
            next_at = time.monotonic()
            for seq in range(count):
                await stamp_start.defer_async(seq=seq)
                enqueued.append(time.time())
                next_at += gap
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            return {"enqueued": enqueued}
    raise SystemExit(f"unknown command {command!r}")


def main(argv: list[str]) -> None:
    answer = asyncio.run(run(argv[0], argv[1:]))
    if argv[0] != "worker":
        emit(answer)


if __name__ == "__main__":
    main(sys.argv[1:])
