"""The report of `bench/queue.py`: the table, the goals, the machine, the chart."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg

if TYPE_CHECKING:
    from bench.queue import Plan, Results
    from bench.queue_systems.base import System

PEER_KEYS = ("pgqueuer", "procrastinate", "django-tasks-db")
RAW_LIMIT = "raw-claim-100"


def machine_facts(server_url: str) -> dict[str, str]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split("MemTotal:")[1].split()[0])
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    with psycopg.connect(server_url) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        settings = {
            name: conn.execute(f"SHOW {name}").fetchone()[0]
            for name in ("synchronous_commit", "shared_buffers", "max_connections", "fsync")
        }
    commit_ms = _commit_latency_ms(server_url)
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    return {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "memory": memory,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgresql": f"{version} on the same machine ("
        + ", ".join(f"{k}={v}" for k, v in settings.items())
        + ")",
        "commit_latency": f"{commit_ms:.2f} ms median per one-row INSERT commit (the WAL flush; "
        "it bounds every system that waits for a flush per batch, and the raw claim-1 loop "
        "makes two per job)",
        "uptime_before": uptime,
    }


def _commit_latency_ms(server_url: str, commits: int = 200) -> float:
    """The disk's price of a durable commit, measured before the run: a queue that commits
    per job can go no faster than its inverse."""
    # A regular table: writes to a temporary one are not WAL-logged, so never flushed.
    timings = []
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_commit_probe (n int)")
        try:
            for n in range(commits):
                started = time.perf_counter()
                conn.execute("INSERT INTO bench_commit_probe VALUES (%s)", (n,))
                timings.append(time.perf_counter() - started)
        finally:
            conn.execute("DROP TABLE bench_commit_probe")
    return statistics.median(timings) * 1000


def _ratio(numerator: float | None, denominator: float | None) -> str:
    if not numerator or not denominator:
        return "-"
    return f"{numerator / denominator:.2f}x"


def _best_peer(results: Results, metric: str) -> tuple[str | None, float | None]:
    best = None, None
    for key in PEER_KEYS:
        value = results.median(key, metric)
        if value and (best[1] is None or value > best[1]):
            best = key, value
    return best


def render(
    systems: list[System], results: Results, plan: Plan, facts: dict[str, str], *, quick: bool
) -> tuple[str, str]:
    """(the Markdown report, the table alone for the console)."""
    best_key, best_drain = _best_peer(results, "drain1")
    raw_drain = results.median(RAW_LIMIT, "drain1")
    header = (
        "| system | enqueue jobs/s | drain, 1 worker, jobs/s | drain, 2 workers, jobs/s "
        "| start p50 ms | start p95 ms | RSS MiB after first / last jobs "
        f"| drain vs best peer ({best_key or '-'}) | drain vs raw claim 100 |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    rows = []
    for system in systems:
        key = system.key
        note = results.notes.get(key)
        if note and not results.values.get((key, "drain1")):
            rows.append(f"| {system.label} | {note} | | | | | | | |")
            continue
        rss = "-"
        if results.median(key, "rss_first"):
            rss = (
                f"{results.median(key, 'rss_first'):.0f} → {results.median(key, 'rss_last'):.0f}"
                f" ({results.median(key, 'rss_jobs'):,.0f} jobs)"
            )
        drain = results.median(key, "drain1")
        rows.append(
            f"| {system.label} | {results.cell(key, 'enqueue')} | {results.cell(key, 'drain1')} "
            f"| {results.cell(key, 'drain2')} | {results.cell(key, 'p50', '{:.1f}')} "
            f"| {results.cell(key, 'p95', '{:.1f}')} | {rss} | {_ratio(drain, best_drain)} "
            f"| {_ratio(drain, raw_drain)} |"
        )
    table = "\n".join([header, *rows])
    goals = _goals(results)
    configs = "\n".join(f"- **{s.label}** (`{s.key}`): {s.config}" for s in systems)
    notes = "\n".join(f"- {key}: {note}" for key, note in results.notes.items()) or "- none"
    machine = "\n".join(f"- {name}: {value}" for name, value in facts.items())
    mode = "`--quick` (small sizes, 1 repetition: a smoke run, not figures)" if quick else "full"
    report = f"""## Job queue (`make bench-queue`, `bench/queue.py`)

Mode: {mode}. {plan.repetitions} repetition(s), interleaved (every system once, then again);
each cell is the median, with min-max in brackets. Drain: {plan.drain_jobs:,} no-op jobs
enqueued in one transaction into idle, warmed-up workers, timed from the enqueue's commit
until none is queued or running. Start latency: {plan.latency_jobs} jobs enqueued one at a
time {plan.latency_gap * 1000:.0f} ms apart into one idle worker, from the enqueue's commit
to the handler's first line. RSS: one worker process after its first {plan.memory_chunk:,}
jobs and after {plan.memory_jobs:,} (or when its time budget of {plan.memory_budget:.0f} s
ran out: the jobs column says how many ran).

{table}

![drain throughput and start latency](benchmarks.png)

### Goals (issue 10), from this run

{goals}

### Systems and their configuration

{configs}

Every system runs in its own database on the same PostgreSQL server; workers are separate
processes started before the measurement and warmed up with 100 jobs (waited for).

### Systems that could not run

{notes}

### Machine

{machine}
"""
    return report, table


def _goals(results: Results) -> str:
    pg = results.median("pgqueuer", "drain1")
    lines = []

    def goal(text: str, value: float | None, target: float, *, at_most: bool = False) -> None:
        if value is None:
            lines.append(f"- {text}: not measured")
            return
        met = value <= target if at_most else value >= target
        lines.append(
            f"- {text}: **{value:.2f}** (goal {'≤' if at_most else '≥'} {target:g}) "
            f"{'met' if met else 'NOT met'}"
        )

    def ratio(key: str) -> float | None:
        value = results.median(key, "drain1")
        return value / pg if value and pg else None

    goal("plain drain at --concurrency 16 ÷ pgqueuer", ratio("ours-c16"), 1.5)
    goal("plain drain at runworker defaults ÷ pgqueuer", ratio("ours"), 1.0)
    goal("atomic drain (defaults) ÷ pgqueuer's plain", ratio("ours-atomic"), 0.6)
    goal("atomic drain (--concurrency 16) ÷ pgqueuer's plain", ratio("ours-atomic-c16"), 0.6)
    p50, p95 = results.median("ours", "p50"), results.median("ours", "p95")
    pg_p50 = results.median("pgqueuer", "p50")
    goal("start latency p50, ms", p50, 3, at_most=True)
    goal(
        "start latency p50 ÷ pgqueuer's", p50 / pg_p50 if p50 and pg_p50 else None, 1, at_most=True
    )
    goal("start latency p95, ms", p95, 5, at_most=True)
    goal("enqueue_many, jobs/s in one transaction", results.median("ours", "enqueue"), 20_000)
    first, last = results.median("ours", "rss_first"), results.median("ours", "rss_last")
    growth = (last - first) / first * 100 if first and last else None
    goal("worker RSS growth from the first chunk to the last, %", growth, 10, at_most=True)
    return "\n".join(lines)


def write_chart(systems: list[System], results: Results, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [s for s in systems if results.median(s.key, "drain1")]
    labels = [s.label.replace(", ", "\n", 1) for s in shown]
    figure, (drain_axis, latency_axis) = plt.subplots(1, 2, figsize=(14, 5.5))
    positions = range(len(shown))
    width = 0.4
    for offset, metric, name in (
        (-width / 2, "drain1", "1 worker"),
        (width / 2, "drain2", "2 workers"),
    ):
        drain_axis.bar(
            [p + offset for p in positions],
            [results.median(s.key, metric) or 0 for s in shown],
            width,
            label=name,
        )
    drain_axis.set_xticks(list(positions), labels, rotation=60, ha="right", fontsize=8)
    drain_axis.set_ylabel("jobs/s")
    drain_axis.set_title("Drain throughput, no-op jobs (higher is better)")
    drain_axis.legend()
    timed = [s for s in shown if results.median(s.key, "p50")]
    latency_positions = range(len(timed))
    for offset, metric in ((-width / 2, "p50"), (width / 2, "p95")):
        latency_axis.bar(
            [p + offset for p in latency_positions],
            [results.median(s.key, metric) or 0 for s in timed],
            width,
            label=metric,
        )
    latency_axis.set_xticks(
        list(latency_positions),
        [s.label.replace(", ", "\n", 1) for s in timed],
        rotation=60,
        ha="right",
        fontsize=8,
    )
    latency_axis.set_yscale("log")
    latency_axis.set_ylabel("ms (log scale)")
    latency_axis.set_title("Start latency into an idle worker (lower is better)")
    latency_axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
