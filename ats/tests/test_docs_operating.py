"""docs/operating.md holds: real `runworker` processes at each `--concurrency` of its table
hold exactly the connections it lists (`concurrency + 3`, counted in `pg_stat_activity` by
each worker's `application_name`), and its alerting rules use only metrics and labels that
/metrics serves."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

import pytest
import yaml
from django.db import connection
from prometheus_client import REGISTRY

from ats.metrics import _ScrapeCollectors
from ats.tenant_scope import system_scope
from jobs.tests.utils import WorkerRun, subprocess_env, wait_until

from .subprocess_env import BASE_DIR

OPERATING = BASE_DIR / "docs" / "operating.md"
FORMULA = "**`concurrency + 3`**"
# A table row: | `--concurrency` | connections | of which |
ROW = re.compile(
    r"^\| (\d+)(?: \(default\))? \| (\d+) \| \d+ job threads?, main loop, heartbeat, listener \|$",
    re.M,
)
# After the count is reached: heartbeats and polls at FAST_QUEUE_ENV's 0.2 s open nothing more.
STEADY_FOR_SECONDS = 1.0

pytestmark = [pytest.mark.django_db(transaction=True)]


def connections_by_application(prefix: str) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT application_name, count(*) FROM pg_stat_activity "
            "WHERE application_name LIKE %s GROUP BY 1",
            [prefix + "%"],
        )
        return dict(cursor.fetchall())


def test_a_worker_holds_the_connections_that_operating_md_lists(tmp_path: Path) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("connections are counted in PostgreSQL's pg_stat_activity")
    text = OPERATING.read_text()
    assert FORMULA in text
    rows = {int(concurrency): int(count) for concurrency, count in ROW.findall(text)}
    assert len(rows) >= 3, "the table of measured connections is missing from operating.md"
    assert all(count == concurrency + 3 for concurrency, count in rows.items()), rows

    prefix = f"ats-doc-{uuid.uuid4().hex[:8]}-"
    workers = {
        concurrency: WorkerRun(
            ["--concurrency", str(concurrency)],
            tmp_path / f"worker-{concurrency}.log",
            subprocess_env(DB_APPLICATION_NAME=f"{prefix}{concurrency}"),
        )
        for concurrency in rows
    }
    expected = {f"{prefix}{concurrency}": count for concurrency, count in rows.items()}
    try:
        try:
            wait_until(
                lambda: connections_by_application(prefix) == expected,
                timeout=60,
                message=f"the workers' connections to be {expected}",
            )
        except AssertionError as exc:
            seen = connections_by_application(prefix)
            logs = "\n".join(worker.output() for worker in workers.values())
            raise AssertionError(f"{exc} Seen: {seen}\n{logs}") from None
        # Not a passing moment on the way to more: the figures stay while the workers idle.
        deadline = time.monotonic() + STEADY_FOR_SECONDS
        while time.monotonic() < deadline:
            assert connections_by_application(prefix) == expected
    finally:
        for worker in workers.values():
            worker.send()
        for worker in workers.values():
            assert worker.wait(timeout=60) == 0, worker.output()
            worker.stop()


RULES_BLOCK = re.compile(r"```yaml\n(groups:.*?)```", re.S)
SELECTOR = re.compile(r"\b(ats_[a-z0-9_]+)\s*(?:\{([^}]*)\})?")
MATCHER_LABEL = re.compile(r"(\w+)\s*(?:=~|!~|!=|=)")
GROUPING = re.compile(r"\b(?:by|on|without|ignoring)\s*\(([^)]*)\)")


def exposed_metrics() -> dict[str, frozenset[str]]:
    """Every sample name /metrics can serve, with its label names: the process metrics
    (counters and histograms, present before anything is counted) and the scrape-time
    families (present with no rows). prometheus-client lists label names only privately."""
    found: dict[str, frozenset[str]] = {}
    for collector, names in REGISTRY._collector_to_names.items():
        labels = frozenset(getattr(collector, "_labelnames", ()))
        for name in names:
            found[name] = labels | ({"le"} if name.endswith("_bucket") else frozenset())
    with system_scope():
        for family in _ScrapeCollectors().collect():
            found[family.name] = frozenset(getattr(family, "_labelnames", ()))
    return found


def test_the_alerting_rules_use_only_what_metrics_serves() -> None:
    block = RULES_BLOCK.search(OPERATING.read_text())
    assert block, "the alerting rules are missing from operating.md"
    rules = [rule for group in yaml.safe_load(block[1])["groups"] for rule in group["rules"]]
    assert len(rules) >= 10
    exposed = exposed_metrics()
    assert "ats_http_requests_total" in exposed and "ats_queue_ready_jobs" in exposed
    wrong = []
    for rule in rules:
        expr = rule["expr"]
        used = SELECTOR.findall(expr)
        labels_here: set[str] = set()
        for name, matchers in used:
            if name not in exposed:
                wrong.append(f"{rule['alert']}: no metric {name}")
                continue
            labels_here |= exposed[name]
            for label in MATCHER_LABEL.findall(matchers):
                if label not in exposed[name]:
                    wrong.append(f"{rule['alert']}: {name} has no label {label!r}")
        for grouping in GROUPING.findall(expr):
            for label in filter(None, (part.strip() for part in grouping.split(","))):
                if used and label not in labels_here:
                    wrong.append(f"{rule['alert']}: no metric here has the label {label!r}")
    assert not wrong, "\n".join(wrong)
