#!/usr/bin/env python
"""Ingestion benchmark (not a test): a realistic 5,000-company bundle on PostgreSQL, beside
the lower bound of the same writes.

The bundle: 5,000 companies with 3 evidence snippets and 3 metrics each, 1,000 sources of
about 4 KB, and a third of the companies already known to the tenant (by domain). Each
repetition measures, in one sitting:
- ingestion: `bundle_ingest` as the ingest job runs it (in the bundle's tenant scope, one
  transaction, as the tests' role without superuser or BYPASSRLS, so row-level security
  applies as in production), from the start to the commit; bundle validation included;
- the floor: the rows that ingestion wrote (sources, the run's source links, new companies,
  aliases, prospects, evidence, metrics; nothing else), read back, deleted, vacuumed, then
  COPY'd into the same tables in one transaction and committed (the deferred foreign-key
  checks included). COPY refuses tables with row-level security, so the floor runs as the
  connecting superuser, which bypasses it: it is what PostgreSQL needs to store these rows.
It prints the median (min-max) of companies/s, of the floor and of the ratio floor time /
ingestion time (and the best repetitions'), each phase's time and statements, the CPU time of
this process and of the server backend for both (read from /proc when the server runs on
this machine: less sensitive to a shared machine's load than the wall clock), and with
`--profile` the top functions of a cProfile'd extra ingestion; `BENCH_SLOW_QUERIES=1` adds
each repetition's slowest statements. Goals on a 2-core machine: ratio ≥ 0.5 and ≥ 5,000
companies/s. Results and where the time goes: docs/benchmarks.md, "Ingestion".

Run: `make bench` (finds or starts PostgreSQL like `make test`), or
`DATABASE_URL=postgres://... .venv/bin/python bench/ingest.py [--companies N] [--profile]`.
It works in a throwaway database `test_<name>`, created and dropped here.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's directory comes first on sys.path, where bench/queue.py would
# shadow the standard library's `queue`: put the project there instead.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import cProfile
import functools
import io
import os
import pstats
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ats.settings_test")

import django

django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.ingest_floor import (  # noqa: E402
    BenchError,
    Cpu,
    copy_floor,
    largest_ids,
    superuser_connection,
)

GOAL_RATE = 5_000
GOAL_RATIO = 0.5
# The phases of `research.services.ingest`, by the module attribute timed; the rest of
# `bundle_ingest` (locks, reads of the run and bundle, status, event) is "other".
PHASES = {
    "validate": "validate_bundle",
    "sources": "_ingest_sources",
    "match": "_decided_matches",
    "companies": "_resolve_companies",
    "aliases": "_add_aliases",
    "prospects": "upsert_prospects",
    "evidence": "add_evidence",
    "metrics": "add_metrics",
}
# Phases whose INSERT runs in ingestion's pipeline: timed is building and sending the rows;
# the server's work on them is waited for later, in "other".
PIPELINED = {"evidence", "metrics"}


@dataclass
class Repetition:
    ingest: float
    floor: float
    commit: float
    queries: int
    phases: dict[str, float]
    phase_queries: dict[str, int]
    rows: dict[str, int] = field(default_factory=dict)
    # CPU seconds (client process, server backend): less sensitive than the wall clock to
    # what else runs on the machine. None when the server's processes cannot be read.
    ingest_cpu: tuple[float, float | None] = (0.0, None)
    floor_cpu: tuple[float, float | None] = (0.0, None)
    floor_commit: float = 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=5_000)
    parser.add_argument("--sources", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3, help="repetitions; the median counts")
    parser.add_argument(
        "--profile", action="store_true", help="then one more ingestion under cProfile"
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("The benchmark runs on PostgreSQL: set DATABASE_URL=postgres://...", file=sys.stderr)
        return 2
    try:
        _ensure_app_role()
    except Exception as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2

    old_name = connection.settings_dict["NAME"]
    test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    print(f"database {test_name} on {connection.settings_dict['HOST'] or 'localhost'}")
    print(f"load average before: {_load()}")
    results: list[Repetition] = []
    try:
        with superuser_connection(settings.DATABASES["default"], test_name) as admin:
            for attempt in range(1, args.repeat + 1):
                result = _repetition(args, attempt, admin)
                results.append(result)
                _print_repetition(attempt, args.companies, result)
            if args.profile:
                _profiled_ingestion(args, args.repeat + 1)
    except BenchError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)
    _print_summary(args.companies, results)
    return 0


def _ensure_app_role() -> None:
    """The tests' role (no superuser, no BYPASSRLS), which settings_test connects as."""
    role = getattr(settings, "TEST_DATABASE_ROLE", "")
    if not role:
        return
    from conftest import _create_test_database_role

    _create_test_database_role(settings.DATABASES["default"], role)


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _prepare(args: argparse.Namespace, attempt: int) -> tuple[Any, Any, Any]:
    """A tenant that knows a third of the bundle's companies, its run, an approved bundle."""
    from ats.actors import Actor
    from ats.models import Company, Tenant
    from ats.normalize import normalize_company_name
    from research.inputs import RunCreate
    from research.services import bundles as bundle_services
    from research.services.runs import run_create
    from research.tests.builders import generated_bundle

    actor = Actor.system("bench")
    tenant = Tenant.objects.create(name=f"Bench {attempt}", slug=f"bench-{attempt}")
    run, _ = run_create(tenant=tenant, data=RunCreate(objective="bench"), actor=actor)
    payload = generated_bundle(
        run.pk,
        companies=args.companies,
        sources=args.sources,
        source_padding=4_000,
        prefix=f"B{attempt}",
    )
    Company.objects.bulk_create(
        Company(
            tenant=tenant,
            name=c["name"],
            normalized_name=normalize_company_name(c["name"]),
            domain=c["domain"],
        )
        for c in payload["proposal_json"]["companies"][::3]
    )
    bundle = bundle_services.bundle_upload(run=run, payload=payload, actor=actor).bundle
    bundle_services.bundle_approve(bundle=bundle, actor=actor)
    return tenant, run, bundle


@functools.cache
def _ingest_module() -> Any:
    import research.services.ingest as module

    return module


def _timed_phases() -> tuple[dict[str, float], dict[str, int], Callable[[], None]]:
    """Wrap the ingestion's phases to time them and count their queries; returns the
    figures (filled as they run) and a function that unwraps."""
    module = _ingest_module()
    seconds: dict[str, float] = defaultdict(float)
    queries: dict[str, int] = defaultdict(int)
    originals = {name: getattr(module, attribute) for name, attribute in PHASES.items()}

    def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def wrapper(*a: Any, **kw: Any) -> Any:
            before, started = len(connection.queries_log), time.perf_counter()
            try:
                return function(*a, **kw)
            finally:
                seconds[name] += time.perf_counter() - started
                queries[name] += len(connection.queries_log) - before

        return wrapper

    for name, function in originals.items():
        setattr(module, PHASES[name], timed(name, function))

    def restore() -> None:
        for name, function in originals.items():
            setattr(module, PHASES[name], function)

    return seconds, queries, restore


def _ingest(bundle: Any, tenant: Any) -> tuple[float, float, int, dict, dict, tuple]:
    """One ingestion as the job runs it: its tenant's scope, one transaction, committed."""
    from ats.tenant_scope import tenant_scope

    seconds, phase_queries, restore = _timed_phases()
    connection.ensure_connection()
    cpu = Cpu(connection.connection.info.backend_pid)
    try:
        with CaptureQueriesContext(connection) as captured, tenant_scope({tenant.pk}):
            cpu_start = cpu.now()
            started = time.perf_counter()
            atomic = transaction.atomic()
            atomic.__enter__()
            try:
                _ingest_module().bundle_ingest(bundle=bundle)
            except BaseException:
                atomic.__exit__(*sys.exc_info())
                raise
            body = time.perf_counter()
            atomic.__exit__(None, None, None)
            ended = time.perf_counter()
            used = cpu.since(cpu_start)
    finally:
        restore()
    phases = dict(seconds)
    phases["other"] = body - started - sum(seconds.values())
    phases["commit"] = ended - body
    phase_queries["other"] = len(captured) - sum(phase_queries.values())
    if os.environ.get("BENCH_SLOW_QUERIES"):
        for query in sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:10]:
            print(f"          {float(query['time']):.3f}s {query['sql'][:150]}")
    return ended - started, ended - body, len(captured), phases, dict(phase_queries), used


def _repetition(args: argparse.Namespace, attempt: int, admin: psycopg.Connection) -> Repetition:
    tenant, run, bundle = _prepare(args, attempt)
    after = largest_ids(admin)
    admin.execute("CHECKPOINT")  # neither measurement pays for the setup's dirty pages
    seconds, commit, queries, phases, phase_queries, ingest_cpu = _ingest(bundle, tenant)
    admin.execute("CHECKPOINT")
    floor, floor_commit, rows, floor_cpu = copy_floor(
        admin, tenant_id=tenant.pk, run_id=run.pk, after=after
    )
    return Repetition(
        seconds,
        floor,
        commit,
        queries,
        phases,
        phase_queries,
        rows,
        ingest_cpu,
        floor_cpu,
        floor_commit,
    )


def _profiled_ingestion(args: argparse.Namespace, attempt: int) -> None:
    tenant, _, bundle = _prepare(args, attempt)
    profile = cProfile.Profile()
    profile.enable()
    seconds = _ingest(bundle, tenant)[0]
    profile.disable()
    print(f"\nprofiled ingestion (cProfile, slower than unprofiled): {seconds:.2f}s")
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out).strip_dirs().sort_stats("tottime")
    stats.print_stats(25)
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:6000])


def _print_repetition(attempt: int, companies: int, r: Repetition) -> None:
    phases = " | ".join(
        f"{name} {r.phases.get(name, 0):.3f}s/{r.phase_queries.get(name, 0)}q"
        for name in [*PHASES, "other", "commit"]
    )
    print(
        f"run {attempt} (load {_load()}): ingest {r.ingest:.2f}s = "
        f"{companies / r.ingest:,.0f} companies/s, {r.queries} queries | "
        f"floor {r.floor:.2f}s (commit {r.floor_commit:.2f}s) = "
        f"{companies / r.floor:,.0f} companies/s | "
        f"ratio {r.floor / r.ingest:.2f}"
    )
    print(f"        phases: {phases}")
    print(
        f"        CPU s (client, server): ingest {_cpu(r.ingest_cpu)} | floor {_cpu(r.floor_cpu)}"
    )
    print("        rows: " + ", ".join(f"{t} {n:,}" for t, n in r.rows.items()))


def _cpu(used: tuple[float, float | None]) -> str:
    return f"{used[0]:.2f} + {'?' if used[1] is None else f'{used[1]:.2f}'}"


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def _print_summary(companies: int, results: list[Repetition]) -> None:
    rates = [companies / r.ingest for r in results]
    floors = [companies / r.floor for r in results]
    ratios = [r.floor / r.ingest for r in results]
    print(f"\nmedian (min-max) of {len(results)} repetitions, load average now {_load()}:")
    print("| measure | value |")
    print("|---|---:|")
    print(f"| ingestion, companies/s | {_rate(rates)} |")
    print(f"| floor (COPY of the same rows), companies/s | {_rate(floors)} |")
    print(f"| ratio ingestion / floor (floor time ÷ ingestion time) | {_median(ratios)} |")
    print(f"| ingestion, s | {_median([r.ingest for r in results])} |")
    print(f"| floor, s | {_median([r.floor for r in results])} |")
    print(f"| floor's commit, s | {_median([r.floor_commit for r in results])} |")
    print(f"| queries | {statistics.median(r.queries for r in results):.0f} |")
    if all(r.ingest_cpu[1] is not None and r.floor_cpu[1] is not None for r in results):
        ingest_cpu = [r.ingest_cpu[0] + r.ingest_cpu[1] for r in results]
        floor_cpu = [r.floor_cpu[0] + r.floor_cpu[1] for r in results]
        print(f"| ingestion CPU, s (client + server) | {_median(ingest_cpu)} |")
        print(f"| ingestion CPU, client only, s | {_median([r.ingest_cpu[0] for r in results])} |")
        print(f"| floor CPU, s (client + server) | {_median(floor_cpu)} |")
        cpu_ratios = [f / i for f, i in zip(floor_cpu, ingest_cpu, strict=True)]
        print(f"| ratio of CPU time, floor / ingestion | {_median(cpu_ratios)} |")
    for name in [*PHASES, "other", "commit"]:
        values = [r.phases.get(name, 0.0) for r in results]
        count = statistics.median(r.phase_queries.get(name, 0) for r in results)
        queries = f"{count:.0f} queries" + (": sent, not waited for" if name in PIPELINED else "")
        if name == "other":
            queries += "; includes the wait for the pipelined INSERTs"
        print(f"| phase {name}, s ({queries}) | {_median(values)} |")
    best, best_floor = min(r.ingest for r in results), min(r.floor for r in results)
    print(
        f"| best of {len(results)} (least disturbed): ingestion / floor, companies/s | "
        f"{companies / best:,.0f} / {companies / best_floor:,.0f} (ratio {best_floor / best:.2f}) |"
    )
    rate, ratio = statistics.median(rates), statistics.median(ratios)
    print(
        f"goals: {rate:,.0f} companies/s (goal ≥ {GOAL_RATE:,}: "
        f"{'met' if rate >= GOAL_RATE else 'not met'}); ratio {ratio:.2f} "
        f"(goal ≥ {GOAL_RATIO}: {'met' if ratio >= GOAL_RATIO else 'not met'})"
    )


def _rate(values: list[float]) -> str:
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}-{max(values):,.0f})"


if __name__ == "__main__":
    sys.exit(main())
