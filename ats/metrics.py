"""`GET /metrics`: Prometheus text exposition of the queue and the research pipeline.

Aggregates only (no tenant names or ids). With `METRICS_TOKEN` set, scrapers must send
`Authorization: Bearer <token>`.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ats.api.exceptions import problem_json_response
from ats.tenant_scope import system_scope
from jobs.models import Job
from jobs.selectors import live_workers, queue_depths
from research.models import Bundle, Prospect, ResearchRun

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MSG_TOKEN = "Send the metrics token: Authorization: Bearer <METRICS_TOKEN>."

Sample = tuple[dict[str, str], float]


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _metric(name: str, help_text: str, samples: Iterable[Sample]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
    for labels, value in samples:
        text = ",".join(f'{key}="{_label(str(val))}"' for key, val in labels.items())
        lines.append(f"{name}{{{text}}} {value}" if text else f"{name} {value}")
    return lines


def _by_status(model: type) -> list[Sample]:
    rows = model.objects.values("status").annotate(n=Count("pk")).order_by("status")
    return [({"status": row["status"]}, row["n"]) for row in rows]


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if token and not constant_time_compare(
        request.headers.get("Authorization", ""), f"Bearer {token}"
    ):
        return problem_json_response(
            status_code=401, title="Not authenticated", detail=MSG_TOKEN, code="not_authenticated"
        )
    with system_scope():  # aggregates over every tenant (row-level security)
        return _exposition()


def _exposition() -> HttpResponse:
    now = timezone.now()
    workers = live_workers(now)
    depths = queue_depths(now, workers)
    lines = [
        *_metric("ats_jobs", "Jobs by status (all queues).", _by_status(Job)),
        *_metric(
            "ats_queue_ready_jobs",
            "Jobs ready to run, per queue.",
            [({"queue": d.queue}, d.ready) for d in depths],
        ),
        *_metric(
            "ats_queue_running_jobs",
            "Jobs running, per queue.",
            [({"queue": d.queue}, d.running) for d in depths],
        ),
        *_metric(
            "ats_queue_oldest_ready_seconds",
            "Age of the longest-waiting ready job, per queue.",
            [({"queue": d.queue}, d.oldest_ready_age or 0) for d in depths],
        ),
        *_metric(
            "ats_queue_live_workers",
            "Live workers serving the queue.",
            [({"queue": d.queue}, d.live_workers) for d in depths],
        ),
        *_metric("ats_workers_live", "Live worker processes.", [({}, len(workers))]),
        *_metric("ats_research_runs", "Research runs by status.", _by_status(ResearchRun)),
        *_metric("ats_bundles", "Bundles by status.", _by_status(Bundle)),
        *_metric("ats_prospects", "Prospects by status.", _by_status(Prospect)),
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type=CONTENT_TYPE)
