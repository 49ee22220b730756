from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ats.api.exceptions import PROBLEM_CONTENT_TYPE, problem_body

from .selectors import db_now, live_workers, queue_depths, starved_queues

MSG_NO_LIVE_WORKER = "Ready jobs wait in queue(s) {queues} and no live worker serves them."


@never_cache
@require_GET
def healthz_workers(request: HttpRequest) -> HttpResponse:
    """200 while every queue with ready jobs has a live worker; 503 otherwise.

    A worker is live when both its heartbeat and its main loop are recent (see
    `WorkerQuerySet.live`), so a process whose loop died is not counted.
    """
    now = db_now()
    workers = live_workers(now)
    depths = queue_depths(now, workers)
    starved = starved_queues(depths)
    details = {
        "live_workers": len(workers),
        "queues": {
            depth.queue: {
                "ready": depth.ready,
                "running": depth.running,
                "oldest_ready_age": depth.oldest_ready_age,
                "live_workers": depth.live_workers,
            }
            for depth in depths
        },
    }
    if starved:
        body = problem_body(
            status_code=503,
            title="No live worker",
            detail=MSG_NO_LIVE_WORKER.format(queues=", ".join(starved)),
            code="no_live_worker",
        )
        return JsonResponse(
            {**body, **details, "starved_queues": starved},
            status=503,
            content_type=PROBLEM_CONTENT_TYPE,
        )
    return JsonResponse({"status": "ok", **details})
