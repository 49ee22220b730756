#!/usr/bin/env python
"""Job queue benchmark (not a test): our queue side by side with the PostgreSQL queues a
Django user could pick, and with the raw limits of PostgreSQL itself.

Systems: ours (plain and atomic no-op handlers, at `runworker`'s defaults and at
`--concurrency 16`), pgqueuer, procrastinate, django-tasks' database backend, and a raw
psycopg loop claiming 1 or 100 jobs per statement. Each runs in its own database on one
PostgreSQL server, its workers in their own processes. Measured, interleaved (A B C ... A B C
..., 3 repetitions; median and min-max):
- enqueue rate: 10,000 jobs in one transaction (bulk where the system has it);
- drain throughput: those 10,000 no-op jobs with 1 worker process and with 2 (from the
  enqueue's commit until no job is left), workers started and warmed up beforehand;
- start latency p50/p95: 200 jobs enqueued one at a time 20 ms apart into an idle worker
  (enqueue commit → the handler's first line, one machine clock);
- worker RSS after 10,000 and after 100,000 jobs (once per system).

Writes docs/benchmarks.md (the table, each system's configuration and version, the machine)
and docs/benchmarks.png. Peers come from requirements-bench.txt (`make bench-queue`
installs it); a peer that cannot run is listed with the reason.

    .venv/bin/python bench/queue.py [--quick] [--db-prefix bench_me] [--systems ours,pgqueuer]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's directory comes first on sys.path, where its name would
# shadow the standard library's `queue` (which threads and asyncio import): put the project
# there instead, before anything else is imported.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import os
import signal
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib.util import find_spec

import psycopg
from psycopg import sql

BASE_DIR = Path(__file__).resolve().parents[1]

from bench.queue_systems import djtasks, ours, pgqueuer_system, procrastinate_system, raw  # noqa: E402
from bench.queue_systems.base import WARMUP_JOBS, System  # noqa: E402
from bench.queue_systems.stamps import STAMP_ENV, read_stamps  # noqa: E402

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
POLL_SECONDS = 0.01
STOP_TIMEOUT = 15.0
DROP = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
PEERS = {
    "pgqueuer": "pgqueuer",
    "procrastinate": "procrastinate",
    "django-tasks-db": "django_tasks_db",
}


def all_systems() -> list[System]:
    return [
        ours.system(
            "ours",
            "ours, plain, runworker defaults",
            "noop",
            (),
            "`runworker` with no options (8 job threads on PostgreSQL, prefetch while jobs "
            "are short); plain (at-least-once) no-op handler; `jobs.enqueue_many`",
        ),
        ours.system(
            "ours-c16",
            "ours, plain, --concurrency 16",
            "noop",
            ("--concurrency", "16"),
            "`runworker --concurrency 16`; plain no-op handler",
        ),
        ours.system(
            "ours-atomic",
            "ours, atomic, runworker defaults",
            "noop_atomic",
            (),
            "`runworker` with no options; `atomic=True` no-op handler (exactly-once "
            "effects; group commit)",
        ),
        ours.system(
            "ours-atomic-c16",
            "ours, atomic, --concurrency 16",
            "noop_atomic",
            ("--concurrency", "16"),
            "`runworker --concurrency 16`; `atomic=True` no-op handler",
        ),
        pgqueuer_system.system(),
        procrastinate_system.system(),
        djtasks.system(),
        raw.system(1),
        raw.system(100),
    ]


def unavailable_reason(system: System) -> str | None:
    module = PEERS.get(system.key)
    if module and find_spec(module) is None:
        return f"not installed (`pip install -r requirements-bench.txt`): no module {module}"
    return None


@dataclass
class Results:
    values: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    def add(self, key: str, metric: str, value: float) -> None:
        self.values.setdefault((key, metric), []).append(value)

    def median(self, key: str, metric: str) -> float | None:
        values = self.values.get((key, metric))
        return statistics.median(values) if values else None

    def cell(self, key: str, metric: str, fmt: str = "{:,.0f}") -> str:
        values = self.values.get((key, metric))
        if not values:
            return "-"
        text = fmt.format(statistics.median(values))
        if len(values) > 1:
            text += f" ({fmt.format(min(values))}-{fmt.format(max(values))})"
        return text


class Bench:
    """Runs the measurements of one system at a time on `server_url`'s PostgreSQL."""

    def __init__(self, *, server_url: str, db_prefix: str, workdir: Path, say: Callable) -> None:
        self.server_url = server_url
        self.db_prefix = db_prefix
        self.workdir = workdir
        self.say = say
        self.prepared: set[str] = set()

    def url(self, system: System) -> str:
        info = psycopg.conninfo.conninfo_to_dict(self.server_url)
        user, host = info.get("user", "postgres"), info.get("host", "127.0.0.1")
        password = f":{info['password']}" if info.get("password") else ""
        return f"postgres://{user}{password}@{host}:{info.get('port', 5432)}/{self.dbname(system)}"

    def dbname(self, system: System) -> str:
        return f"{self.db_prefix}_{system.database}".replace("-", "_")

    def prepare(self, system: System) -> None:
        """A fresh database with the system's schema (once per database)."""
        name = self.dbname(system)
        if name in self.prepared:
            return
        with psycopg.connect(self.server_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        system.client(self.url(system), "setup")
        self.prepared.add(name)

    def drop(self, system: System) -> None:
        name = self.dbname(system)
        with psycopg.connect(self.server_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        self.prepared.discard(name)

    # --- measurements -------------------------------------------------------------------

    def drain(self, system: System, *, workers: int, jobs: int) -> tuple[float, float]:
        """(enqueue jobs/s, drain jobs/s) of `jobs` no-op jobs with `workers` processes."""
        self.reset(system)
        with self.workers(system, workers):
            answer = system.client(self.url(system), "enqueue", system.kind, str(jobs))
            done_at = self.wait_empty(system, timeout=max(120.0, jobs / 20))
        return jobs / answer["seconds"], jobs / max(1e-6, done_at - answer["committed_at"])

    def latency(self, system: System, *, jobs: int, gap: float) -> tuple[float, float]:
        """(p50, p95) in milliseconds from enqueue commit to handler start."""
        self.reset(system)
        stamps = self.workdir / f"{system.key}-stamps.txt"
        stamps.unlink(missing_ok=True)
        with self.workers(system, 1, {STAMP_ENV: str(stamps)}):
            answer = system.client(self.url(system), "latency", str(jobs), str(gap))
            self.wait_empty(system, timeout=60)
        started = read_stamps(stamps)
        delays = sorted(
            (started[seq] - at) * 1000
            for seq, at in enumerate(answer["enqueued"])
            if seq in started
        )
        if len(delays) < jobs:
            raise RuntimeError(f"{system.key}: only {len(delays)} of {jobs} stamp jobs ran")
        return percentile(delays, 50), percentile(delays, 95)

    def memory(
        self, system: System, *, total: int, chunk: int, budget: float
    ) -> tuple[float, float, int]:
        """(RSS MiB after the first `chunk` jobs, RSS after `total` or when `budget` seconds
        ran out, jobs run): one worker process."""
        self.reset(system)
        deadline = time.monotonic() + budget
        with self.workers(system, 1) as processes:
            done, first = 0, 0.0
            while done < total:
                system.client(self.url(system), "enqueue", system.kind, str(chunk))
                self.wait_empty(system, timeout=max(120.0, budget))
                done += chunk + WARMUP_JOBS  # each client warms the worker up first
                if not first:
                    first = rss_mib(processes[0].pid)
                if time.monotonic() > deadline:
                    break
            return first, rss_mib(processes[0].pid), done

    # --- plumbing -----------------------------------------------------------------------

    def reset(self, system: System) -> None:
        with psycopg.connect(self.url(system), autocommit=True) as conn:
            conn.execute(system.reset_sql)
            conn.execute("VACUUM ANALYZE")

    def wait_empty(self, system: System, *, timeout: float) -> float:
        """Poll until no job is queued or running; returns when (time.time())."""
        deadline = time.monotonic() + timeout
        query = f"SELECT EXISTS ({system.pending_sql})"
        with psycopg.connect(self.url(system), autocommit=True) as conn:
            while conn.execute(query).fetchone()[0]:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{system.key}: jobs still pending after {timeout:.0f}s")
                time.sleep(POLL_SECONDS)
        return time.time()

    def workers(self, system: System, count: int, env: dict[str, str] | None = None) -> _Workers:
        return _Workers(self, system, count, env or {})


class _Workers:
    def __init__(self, bench: Bench, system: System, count: int, env: dict[str, str]) -> None:
        self.bench, self.system, self.count, self.env = bench, system, count, env
        self.processes: list[subprocess.Popen] = []

    def __enter__(self) -> list[subprocess.Popen]:
        log = self.bench.workdir / f"{self.system.key}-worker.log"
        self.processes = [
            self.system.start_worker(self.bench.url(self.system), log, self.env)
            for _ in range(self.count)
        ]
        return self.processes

    def __exit__(self, *exc: object) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for process in self.processes:
            if process.returncode not in (0, -signal.SIGTERM, 128 + signal.SIGTERM, 1):
                log = self.bench.workdir / f"{self.system.key}-worker.log"
                raise RuntimeError(
                    f"{self.system.key}: a worker exited with {process.returncode}; see {log}"
                )


def percentile(sorted_values: list[float], pct: float) -> float:
    index = (len(sorted_values) - 1) * pct / 100
    low = int(index)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (index - low)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- the run --------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    repetitions: int
    drain_jobs: int
    drain_workers: tuple[int, ...]
    latency_jobs: int
    latency_gap: float
    memory_jobs: int
    memory_chunk: int
    memory_budget: float
    # Systems whose memory is measured (None: all but the repeated configurations).
    memory_systems: tuple[str, ...] | None = None


FULL = Plan(3, 10_000, (1, 2), 200, 0.02, 100_000, 10_000, 240.0)
# A smoke run: every system once, small, one worker process; memory of ours only.
QUICK = Plan(1, 500, (1,), 20, 0.02, 2_000, 1_000, 10.0, memory_systems=("ours",))


def run(bench: Bench, systems: list[System], plan: Plan, results: Results, say: Callable) -> None:
    runnable = []
    for system in systems:
        reason = unavailable_reason(system)
        if reason:
            results.notes[system.key] = reason
            continue
        try:
            bench.prepare(system)
        except Exception as exc:
            results.notes[system.key] = f"cannot run: {str(exc).strip().splitlines()[-1]}"
            continue
        runnable.append(system)
    for repetition in range(1, plan.repetitions + 1):
        for system in runnable:  # interleaved: A B C … then again
            if system.key in results.notes:
                continue
            say(f"[{repetition}/{plan.repetitions}] {system.label}")
            try:
                for workers in plan.drain_workers:
                    enqueue, drain = bench.drain(system, workers=workers, jobs=plan.drain_jobs)
                    results.add(system.key, "enqueue", enqueue)
                    results.add(system.key, f"drain{workers}", drain)
                if system.measures_latency:
                    p50, p95 = bench.latency(system, jobs=plan.latency_jobs, gap=plan.latency_gap)
                    results.add(system.key, "p50", p50)
                    results.add(system.key, "p95", p95)
            except Exception as exc:
                results.notes[system.key] = f"failed: {str(exc).strip().splitlines()[0]}"
    for system in runnable:
        if system.key in results.notes or system.key.endswith("-c16"):
            continue
        if plan.memory_systems is not None and system.key not in plan.memory_systems:
            continue
        say(f"[memory] {system.label}")
        try:
            first, last, done = bench.memory(
                system, total=plan.memory_jobs, chunk=plan.memory_chunk, budget=plan.memory_budget
            )
        except Exception as exc:
            results.notes[system.key] = f"memory run failed: {exc}"
            continue
        results.add(system.key, "rss_first", first)
        results.add(system.key, "rss_last", last)
        results.add(system.key, "rss_jobs", done)


START_MARK = "<!-- bench-queue:start: written by `make bench-queue`; edit outside -->"
END_MARK = "<!-- bench-queue:end -->"


def splice(document: str, report: str) -> str:
    """`document` with the part between the markers replaced by `report` (the rest, such as
    the profile notes, is kept); a new document when there are no markers."""
    block = f"{START_MARK}\n{report.strip()}\n{END_MARK}"
    if START_MARK in document and END_MARK in document:
        head, rest = document.split(START_MARK, 1)
        return head + block + rest.split(END_MARK, 1)[1]
    return f"# Benchmarks\n\n{block}\n"


def _postgres_url_from_env() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small runs, 1 repetition (<2 min)")
    parser.add_argument(
        "--server",
        default=os.environ.get("BENCH_SERVER_URL") or _postgres_url_from_env() or DEFAULT_SERVER,
        help="a PostgreSQL URL whose user may create databases (default: DATABASE_URL)",
    )
    parser.add_argument("--db-prefix", default="bench_queue", help="database names' prefix")
    parser.add_argument("--systems", help="comma-separated keys (default: all)")
    parser.add_argument("--output", default=str(BASE_DIR / "docs" / "benchmarks.md"))
    parser.add_argument("--keep-databases", action="store_true")
    parser.add_argument("--drain-jobs", type=int, help="jobs per drain (default: the plan's)")
    args = parser.parse_args()

    from bench.queue_report import machine_facts, render, write_chart

    systems = all_systems()
    if args.systems:
        wanted = set(args.systems.split(","))
        unknown = wanted - {s.key for s in systems}
        if unknown:
            parser.error(f"unknown systems {sorted(unknown)}; known: {[s.key for s in systems]}")
        systems = [s for s in systems if s.key in wanted]
    plan = QUICK if args.quick else FULL
    if args.drain_jobs:
        plan = replace(plan, drain_jobs=args.drain_jobs)

    def say(message: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)

    try:
        with psycopg.connect(args.server, connect_timeout=5):
            pass
    except psycopg.Error as exc:
        print(
            f"Cannot reach PostgreSQL at {args.server}: {exc}. Pass --server URL.", file=sys.stderr
        )
        return 2
    results = Results()
    facts = machine_facts(args.server)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-queue-") as workdir:
        bench = Bench(
            server_url=args.server, db_prefix=args.db_prefix, workdir=Path(workdir), say=say
        )
        try:
            run(bench, systems, plan, results, say)
        finally:
            if not args.keep_databases:
                for system in systems:
                    bench.drop(system)
    facts["duration"] = f"{time.monotonic() - started:.0f} s"
    facts["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    report, table = render(systems, results, plan, facts, quick=args.quick)
    print(table)
    output = Path(args.output)
    output.write_text(splice(output.read_text() if output.exists() else "", report))
    write_chart(systems, results, output.with_suffix(".png"))
    say(f"wrote {output} and {output.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
