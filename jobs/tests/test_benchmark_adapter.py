"""The queue benchmark's adapters for our queue and for the raw limits (which write our
`jobs` table by hand), end to end on a small scale, so that `bench/queue.py` cannot rot
unnoticed (the peers need not be installed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

from bench.queue import QUICK, Bench, Results, all_systems
from bench.queue_report import render

from .utils import child_database_url

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def bench(tmp_path: Path) -> Bench:
    return Bench(
        server_url=child_database_url(),
        db_prefix=f"{connection.settings_dict['NAME']}_bench",
        workdir=tmp_path,
        say=print,
    )


def test_the_benchmark_drains_and_times_our_queue(bench: Bench) -> None:
    system = next(s for s in all_systems() if s.key == "ours")
    results = Results()
    try:
        bench.prepare(system)
        enqueue, drain = bench.drain(system, workers=1, jobs=200)
        p50, p95 = bench.latency(system, jobs=10, gap=0.02)
    finally:
        bench.drop(system)
    assert enqueue > 0 and drain > 0
    assert 0 < p50 <= p95 < 1_000  # milliseconds, from a NOTIFY-woken idle worker
    for metric, value in (("enqueue", enqueue), ("drain1", drain), ("p50", p50), ("p95", p95)):
        results.add(system.key, metric, value)
    report, table = render([system], results, QUICK, {"date": "now"}, quick=True)
    assert "| ours, plain, runworker defaults |" in table
    assert "### Goals" in report


@pytest.mark.parametrize("key", ["raw-claim-1", "raw-claim-100"])
def test_the_raw_limits_still_fit_our_jobs_table(bench: Bench, key: str) -> None:
    # They insert and claim rows of `jobs` in hand-written SQL, each its own claim: a change
    # of the table would break them unseen until a full benchmark run (it did once).
    system = next(s for s in all_systems() if s.key == key)
    try:
        bench.prepare(system)
        enqueue, drain = bench.drain(system, workers=1, jobs=200)
    finally:
        bench.drop(system)
    assert enqueue > 0 and drain > 0
