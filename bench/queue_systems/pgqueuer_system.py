"""pgqueuer (asyncpg driver): bulk `Queries.enqueue(list, list, list)`, a `PgQueuer.run()`
worker with its defaults (batch_size 10, no concurrency limit), async no-op entrypoints."""

from __future__ import annotations

import asyncio
import os
import sys
import time

from .base import WARMUP_JOBS, System, emit, version_of, wait_until_empty
from .stamps import stamp


def system() -> System:
    return System(
        key="pgqueuer",
        label="pgqueuer",
        module=__name__,
        database="pgqueuer",
        kind="noop",
        worker_argv=("-m", __name__, "worker"),
        pending_sql="SELECT 1 FROM pgqueuer",
        reset_sql="TRUNCATE pgqueuer, pgqueuer_log, pgqueuer_statistics",
        config=(
            f"pgqueuer {version_of('pgqueuer')} with asyncpg {version_of('asyncpg')}, "
            "uvloop; PgQueuer.run() defaults (batch_size=10, unlimited concurrency, "
            "LISTEN/NOTIFY); async no-op entrypoints; enqueue with lists (one statement)"
        ),
    )


def version() -> str:
    return f"pgqueuer {version_of('pgqueuer')}"


async def _connect():
    import asyncpg

    return await asyncpg.connect(os.environ["DATABASE_URL"])


async def _queries():
    from pgqueuer.db import AsyncpgDriver
    from pgqueuer.queries import Queries

    connection = await _connect()
    return connection, Queries(AsyncpgDriver(connection))


async def setup() -> None:
    connection, queries = await _queries()
    await queries.install()
    await connection.close()


async def worker() -> None:
    from pgqueuer import PgQueuer
    from pgqueuer.db import AsyncpgDriver

    connection = await _connect()
    pgq = PgQueuer(AsyncpgDriver(connection))

    @pgq.entrypoint("noop")
    async def noop(job: object) -> None:
        pass

    @pgq.entrypoint("stamp")
    async def stamp_start(job: object) -> None:
        stamp(int(job.payload))

    await pgq.run()


async def enqueue(count: int) -> dict:
    connection, queries = await _queries()
    await queries.enqueue(["noop"] * WARMUP_JOBS, [None] * WARMUP_JOBS, [0] * WARMUP_JOBS)
    await asyncio.to_thread(wait_until_empty)
    started = time.perf_counter()
    await queries.enqueue(["noop"] * count, [None] * count, [0] * count)
    answer = {"seconds": time.perf_counter() - started, "committed_at": time.time()}
    await connection.close()
    return answer


async def latency(count: int, gap: float) -> dict:
    connection, queries = await _queries()
    await queries.enqueue("stamp", b"-1")
    await asyncio.to_thread(wait_until_empty)
    enqueued = []
    next_at = time.monotonic()
    for seq in range(count):
        await queries.enqueue("stamp", str(seq).encode())
        enqueued.append(time.time())
        next_at += gap
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    await connection.close()
    return {"enqueued": enqueued}


def main(argv: list[str]) -> None:
    command = argv[0]
    if command == "setup":
        asyncio.run(setup())
        emit({"ok": True})
    elif command == "worker":
        import uvloop

        uvloop.run(worker())
    elif command == "enqueue":
        emit(asyncio.run(enqueue(int(argv[2]))))
    elif command == "latency":
        emit(asyncio.run(latency(int(argv[1]), float(argv[2]))))
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
