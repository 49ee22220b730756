"""Prometheus metrics: the HTTP metrics, the registry of scrape-time collectors, `GET /metrics`.

Two kinds of metrics:

- **Process metrics** (counters, histograms) are prometheus-client objects updated as things
  happen: HTTP requests here, job attempts in `jobs.metrics`. Under gunicorn's several workers
  they are kept in files in `PROMETHEUS_MULTIPROC_DIR` (prometheus-client's multiprocess mode)
  and added up at scrape time, so any worker answers for all of them.
- **Scrape-time collectors** read the database when /metrics is scraped (queue depths, bundles
  by status...). Each app registers its own in `AppConfig.ready()` with `register_collector`,
  so this module knows nothing of what they count.

Labels are aggregates only: route templates, methods, statuses, queues, job types. Never a
tenant, an id or a raw path.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    multiprocess,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ats.api.exceptions import problem_json_response
from ats.tenant_scope import system_scope

logger = logging.getLogger(__name__)

MSG_TOKEN = "Send the metrics token: Authorization: Bearer <METRICS_TOKEN>."
MSG_CLOSED = (
    "Metrics are closed: set METRICS_TOKEN on the server and send "
    "Authorization: Bearer <METRICS_TOKEN> (without a token /metrics is open only with DEBUG on)."
)

# No `*_created` series: multiprocess mode has none, and they double the series count.
disable_created_metrics()

# Request latency, seconds: from a fast cached read to a 25 MB bundle upload.
HTTP_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

HTTP_REQUESTS = Counter(
    "ats_http_requests",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "ats_http_request_duration_seconds",
    "Time to answer an HTTP request (until the response is ready), by route template and method.",
    ["route", "method"],
    buckets=HTTP_DURATION_BUCKETS,
)
HTTP_REQUESTS_IN_PROGRESS = Gauge(
    "ats_http_requests_in_progress",
    "HTTP requests being answered now.",
    multiprocess_mode="livesum",  # gunicorn's child_exit hook drops a dead worker's share
)


def multiprocess_dir() -> str:
    """The multiprocess directory, or "" in single-process mode.

    prometheus-client chose its mode from the environment when it was imported; this reads
    the same variable.
    """
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


# --- scrape-time collectors ---------------------------------------------------------------

_scrape_collectors: dict[str, Collector] = {}


def register_collector(name: str, collector: Collector) -> None:
    """Add a collector that reads its values when /metrics is scraped.

    `name` identifies it in `ats_metrics_collector_success`; registering a name again
    replaces the collector (an app's ready() may run again in tests).
    """
    _scrape_collectors[name] = collector


class _ScrapeCollectors(Collector):
    """Every registered scrape-time collector; one that fails (database unreachable) is
    reported as failed instead of failing the whole scrape."""

    def collect(self) -> Iterator[Metric]:
        success = GaugeMetricFamily(
            "ats_metrics_collector_success",
            "1 when the collector could read its values at this scrape, else 0.",
            labels=["collector"],
        )
        for name, collector in sorted(_scrape_collectors.items()):
            try:
                metrics = list(collector.collect())
            except DatabaseError:
                logger.exception("Metrics collector %s failed.", name)
                success.add_metric([name], 0)
                continue
            success.add_metric([name], 1)
            yield from metrics
        yield success


class _ProcessMetrics(Collector):
    """This process's own metrics (single-process mode: no multiprocess directory)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def exposition_registry() -> CollectorRegistry:
    """What one scrape shows: the process metrics of every process, then the database's."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ProcessMetrics())
    registry.register(_ScrapeCollectors())
    return registry


# --- the view -----------------------------------------------------------------------------


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition (text format, or OpenMetrics when the scraper asks for it)."""
    token = settings.METRICS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "")
        if not constant_time_compare(sent, f"Bearer {token}"):
            return problem_json_response(
                status_code=401,
                title="Not authenticated",
                detail=MSG_TOKEN,
                code="not_authenticated",
            )
    elif not settings.DEBUG:
        return problem_json_response(
            status_code=403, title="Metrics closed", detail=MSG_CLOSED, code="metrics_closed"
        )
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    with system_scope():  # the collectors aggregate over every tenant (row-level security)
        body = encoder(exposition_registry())
    return HttpResponse(body, content_type=content_type)
