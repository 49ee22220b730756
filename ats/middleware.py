"""Request middleware: what operators see of each request (its request id, one structured log
line, the HTTP metrics), and the tenant scope of its database work."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from ats import request_context
from ats.actors import Actor
from ats.metrics import HTTP_REQUEST_DURATION, HTTP_REQUESTS, HTTP_REQUESTS_IN_PROGRESS
from ats.models import Membership
from ats.tenant_scope import ALL_TENANTS, NO_TENANT, enter_scope, system_scope, tenant_scope

logger = logging.getLogger("ats.request")

# Methods outside this set share one label, so that made-up methods cannot grow the metrics.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "<unmatched>"
# Probed every few seconds by load balancers and Prometheus: logged at DEBUG, not INFO, like
# static files (a dozen per admin page).
QUIET_ROUTES = frozenset({"/healthz", "/healthz/workers", "/metrics"})

_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>")
_CONVERTER = re.compile(r"<\w+:(\w+)>")


def route_template(request: HttpRequest) -> str:
    """The URL pattern that answered, with its parameters named, never their values:
    `/api/v1/runs/<pk>/bundle/`. Paths that matched no pattern share one label."""
    match = request.resolver_match
    if match is None or not match.route:
        static = _static_route()
        if request.path.startswith(static.removesuffix("<path>")):  # WhiteNoise answered
            return static
        return UNMATCHED_ROUTE
    return "/" + _readable_route(match.route)


def _static_route() -> str:
    return f"/{settings.STATIC_URL.strip('/')}/<path>"


def _readable_route(route: str) -> str:
    """`api/v1/^runs/(?P<pk>[^/.]+)/$` → `api/v1/runs/<pk>/`; `<uuid:pk>` → `<pk>`."""
    route = _CONVERTER.sub(r"<\1>", route)
    out: list[str] = []
    i = 0
    while i < len(route):
        group = _NAMED_GROUP.match(route, i)
        if group:
            out.append(f"<{group[1]}>")
            i = _group_end(route, group.end())
        elif route[i] in "^$":
            i += 1
        elif route[i] == "\\" and i + 1 < len(route):
            out.append(route[i + 1])
            i += 2
        else:
            out.append(route[i])
            i += 1
    return "".join(out)


def _group_end(pattern: str, start: int) -> int:
    """The index after the `)` closing the group whose body starts at `start`."""
    depth, i, in_class = 1, start, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(pattern)


def _caller(request: HttpRequest, context: request_context.RequestContext) -> tuple[str, str]:
    """(tenant slug, actor) for the log line: what authentication noted, else the session user."""
    if context.actor:
        return context.tenant, context.actor
    # Django's session user (DRF puts an API key's user here too, but tenancy noted those).
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and getattr(user, "pk", None) is not None:
        return context.tenant, Actor.for_user(user).label
    return context.tenant, ""


class RequestObservabilityMiddleware:
    """Per request: accept or make a request id (echoed in `X-Request-ID`), count and time
    the request by route template, and write one log line with method, route, status,
    duration, request id, tenant and actor.

    First in MIDDLEWARE, so that it measures everything the other middleware does too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(request_context.REQUEST_ID_HEADER)
        request_id = (
            request_context.accepted_request_id(incoming) or request_context.new_request_id()
        )
        started = time.perf_counter()
        with request_context.bind(request_id=request_id) as context:
            request.request_context = context  # for log lines written after we return
            HTTP_REQUESTS_IN_PROGRESS.inc()
            try:
                response = self.get_response(request)
            finally:
                HTTP_REQUESTS_IN_PROGRESS.dec()
            duration = time.perf_counter() - started
            route = route_template(request)
            method = request.method if request.method in KNOWN_METHODS else "other"
            HTTP_REQUESTS.labels(route, method, str(response.status_code)).inc()
            HTTP_REQUEST_DURATION.labels(route, method).observe(duration)
            self._log(request, response, context, route=route, duration=duration)
        response[request_context.REQUEST_ID_HEADER] = request_id
        return response

    def _log(
        self,
        request: HttpRequest,
        response: HttpResponse,
        context: request_context.RequestContext,
        *,
        route: str,
        duration: float,
    ) -> None:
        tenant, actor = _caller(request, context)
        status = response.status_code
        if status >= 500:
            level = logging.ERROR
        elif (route in QUIET_ROUTES or route == _static_route()) and status < 400:
            level = logging.DEBUG
        else:
            level = logging.INFO
        duration_ms = round(duration * 1000, 1)
        # The path, never the query string: that is where a careless client puts a secret.
        logger.log(
            level,
            "%s %s %s %.1fms tenant=%s actor=%s",
            request.method,
            request.path,
            status,
            duration_ms,
            tenant or "-",
            actor or "-",
            extra={
                "request_id": context.request_id,
                "method": request.method,
                "route": route,
                "path": request.path,
                "status": status,
                "duration_ms": duration_ms,
                "tenant": tenant or "-",
                "actor": actor or "-",
            },
        )


class TenantScopeMiddleware:
    """Every request starts seeing no tenant's rows (row-level security, `ats.tenant_scope`).

    A signed-in staff member sees their tenants' rows (a superuser every tenant's); the API
    narrows that to the one tenant of the call once it knows it (API key or `X-Tenant`).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with tenant_scope(NO_TENANT):
            user = request.user
            if user.is_authenticated and user.is_active:
                if user.is_superuser:
                    enter_scope(ALL_TENANTS)
                else:
                    with system_scope():
                        tenant_ids = list(
                            Membership.objects.filter(user=user).values_list("tenant_id", flat=True)
                        )
                    enter_scope(tenant_ids)
            return self.get_response(request)
