"""Tenant isolation, generated from the URL configuration rather than kept by hand.

Tenant A's world is planted with a distinctive word in every text. Every API route and every
admin page is then called by tenant B (every role, every verb the route serves) with A's
objects in its path. B must get what a nonexistent id gets (404; or 403/405 when the route
refuses the call before any lookup, for every id) and never a byte of A's data. A route the
walk cannot fill with an object fails the test, so a new endpoint is covered or says why not.
Before asking as B, each request is made as A and must not answer 404: a missing route or a
wrong path can never pass for isolation.

Isolation has two layers: the application's tenant filters and, on PostgreSQL, row-level
security. Every case runs twice: as deployed, and with the database layer opened (every
transaction sees every tenant), so that each layer is shown to hold on its own.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from ats import services as ats_services
from ats.actors import Actor
from ats.db.backends.postgresql import base as rls_backend
from ats.models import ApiKey, Company, MemberRole, Membership, Role, Tenant
from ats.tests.factories import (
    CompanyAliasFactory,
    CompanyFactory,
    MembershipFactory,
    RoleFactory,
    TenantFactory,
    UserFactory,
)
from jobs.models import Job, WorkerProcess
from research.inputs import RunCreate
from research.models import (
    Bundle,
    Prospect,
    ProspectEvidence,
    ProspectMetric,
    ResearchRun,
    RunEvent,
    RunStep,
    Source,
)
from research.services.bundles import bundle_approve, bundle_upload
from research.services.ingest import bundle_ingest
from research.services.runs import run_create

from . import builders

MARKER = "alphasecret"
ROLES = [MemberRole.ANALYST, MemberRole.REVIEWER, MemberRole.ADMIN]
VERBS = ["get", "post", "put", "patch", "delete"]
# Statuses that say "no such thing here", for an id of another tenant as for a made-up one.
NOT_FOUND = 404
REFUSED_BEFORE_LOOKUP = {403, 405}


@dataclass
class World:
    """Tenant A's planted objects, one per model (what a path parameter can point to)."""

    tenant: Tenant
    objects: dict[type[Model], Model]
    secrets: list[str]  # strings of A that must never reach B (names, ids)
    # Rows of no tenant (users, groups, workers) to fill admin paths with; only their
    # contents are checked (a user of A has A's word in its name).
    shared: dict[type[Model], Model]

    def owned_pks(self) -> list[str]:
        return [str(obj.pk) for obj in self.objects.values()]


def plant_tenant_a() -> World:
    tenant = TenantFactory(name="Alphasecret Search", slug="alphasecret")
    user = UserFactory(username="alphasecret_reviewer", is_staff=True)
    membership = MembershipFactory(tenant=tenant, user=user, role=MemberRole.ADMIN)
    api_key, _ = ats_services.api_key_create(
        tenant=tenant, role=MemberRole.ADMIN, name="alphasecret-agent"
    )
    company = CompanyFactory(
        tenant=tenant, name="Alphasecret Robotics", domain="alphasecret-robotics.com"
    )
    alias = CompanyAliasFactory(company=company, alias="Alphasecret Bots")
    role = RoleFactory(tenant=tenant, title="Alphasecret CTO search", client_company=company)
    run, _ = run_create(
        tenant=tenant,
        data=RunCreate(objective="Alphasecret objective: robotics CTOs", role_id=role.pk),
        actor=Actor.system("alphasecret-planter"),
    )
    actor = Actor(label="user:alphasecret_reviewer")
    text = f"{MARKER} Alphasecret Robotics builds alphasecret arms for alphasecret factories."
    source = builders.source(text, url="https://alphasecret.example/a", title="Alphasecret news")
    first = builders.bundle(
        run.pk,
        [
            builders.company(
                "Alphasecret Robotics",
                sources=[source],
                evidence=["Alphasecret Robotics builds alphasecret arms"],
                domain="alphasecret-robotics.com",
                metrics=[
                    {
                        "key": "headcount",
                        "type": "number",
                        "value": 420,
                        "source_sha256": source["sha256"],
                    }
                ],
            )
        ],
        [source],
        steps=[{"step_key": "alphasecret-search", "step_type": "search", "status": "ok"}],
    )
    ingested = bundle_upload(run=run, payload=first, actor=actor).bundle
    bundle_approve(bundle=ingested, actor=actor, note="alphasecret approval note")
    with transaction.atomic():
        bundle_ingest(bundle=ingested)
    second = builders.generated_bundle(run.pk, companies=2, prefix="Alphasecret")
    pending = bundle_upload(run=run, payload=second, actor=actor).bundle
    prospect = Prospect.objects.get(run=run, company=company)
    shared: dict[type[Model], Model] = {
        type(user): user,
        Group: Group.objects.create(name="alphasecret-reviewers"),
        WorkerProcess: WorkerProcess.objects.create(id="worker-1", host="host", pid=1),
    }
    objects: dict[type[Model], Model] = {
        Tenant: tenant,
        Membership: membership,
        ApiKey: api_key,
        Company: company,
        type(alias): alias,
        Role: role,
        ResearchRun: run,
        Bundle: pending,
        RunStep: RunStep.objects.filter(run=run).first(),
        Source: Source.objects.filter(tenant=tenant).first(),
        RunEvent: RunEvent.objects.filter(run=run).first(),
        Prospect: prospect,
        ProspectEvidence: ProspectEvidence.objects.filter(prospect=prospect).first(),
        ProspectMetric: ProspectMetric.objects.filter(prospect=prospect).first(),
        Job: Job.objects.filter(tenant=tenant).first(),
    }
    missing = [model.__name__ for model, obj in objects.items() if obj is None]
    assert not missing, f"the planting made no {missing}"
    secrets = [MARKER, str(run.pk), str(pending.pk), pending.sha256, str(ingested.pk)]
    return World(tenant=tenant, objects=objects, secrets=secrets, shared=shared)


@pytest.fixture
def world(db: None) -> World:
    return plant_tenant_a()


@pytest.fixture(params=["both layers", "application layer only"])
def layers(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "application layer only":
        # Row-level security sees every tenant: only the application's filters remain.
        monkeypatch.setattr(rls_backend, "setting_value", lambda scope: "*")
    return request.param


def context_of(content: bytes, secret: str) -> str:
    text = content.decode("utf-8", errors="replace")
    at = text.lower().find(secret.lower())
    return text[max(0, at - 200) : at + 60]


def snapshot(world: World) -> dict[str, Any]:
    """Every row of tenant A, as stored: what B's requests must leave unchanged."""
    state: dict[str, Any] = {}
    for model in world.objects:
        rows = model._default_manager.filter(
            **({"pk": world.tenant.pk} if model is Tenant else {"tenant": world.tenant})
        )
        state[model._meta.label] = sorted(map(repr, rows.values()))
    return state


def leaks(content: bytes, world: World) -> list[str]:
    text = content.decode("utf-8", errors="replace").lower()
    return [secret for secret in world.secrets if secret.lower() in text]


# --- the API ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str
    kwargs_names: tuple[str, ...]
    methods: tuple[str, ...]
    model: type[Model] | None
    action: str


def walk(patterns: list, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, prefix + str(entry.pattern))
        else:
            yield prefix + str(entry.pattern), entry


def path_parameters(route: str) -> tuple[str, ...]:
    """Named parameters of a route, whether written as `<int:pk>` or `(?P<pk>...)`."""
    return tuple(dict.fromkeys(re.findall(r"<(?:\w+:)?(\w+)>", route)))


def api_routes() -> list[Route]:
    routes = []
    for route, pattern in walk(get_resolver().url_patterns):
        if not route.startswith("api/v1/"):
            continue
        callback = pattern.callback
        view_class = getattr(callback, "cls", None)
        assert view_class is not None, f"{route}: not a DRF view; cover it here"
        actions = getattr(callback, "actions", None) or {}
        methods = tuple(actions) if actions else tuple(m for m in VERBS if hasattr(view_class, m))
        queryset = getattr(view_class, "queryset", None)
        names = path_parameters(route)
        routes.append(
            Route(
                name=pattern.name,
                kwargs_names=names,
                methods=methods,
                model=queryset.model if queryset is not None else None,
                action="/".join(sorted(set(actions.values()))) or view_class.__name__,
            )
        )
    return routes


API_ROUTES = api_routes()


def fill(route: Route, world: World, *, missing: bool = False) -> dict[str, Any]:
    if not route.kwargs_names:
        return {}
    assert route.kwargs_names == ("pk",), (
        f"{route.name}: cannot fill path parameters {route.kwargs_names}; teach the matrix"
    )
    assert route.model in world.objects, (
        f"{route.name}: no planted {route.model} of tenant A; add one to plant_tenant_a()"
    )
    obj = world.objects[route.model]
    if missing:
        made_up: Any = uuid.uuid4() if isinstance(obj.pk, uuid.UUID) else 987_654_321
        return {"pk": made_up}
    return {"pk": obj.pk}


def body_for(route: Route, world: World) -> dict[str, Any]:
    """A body that would pass validation, so a refusal can only come from the lookup."""
    run = world.objects[ResearchRun]
    bundle = world.objects[Bundle]
    bodies = {
        "approve": {"note": "ok", "bundle_sha256": bundle.sha256},
        "reject": {"note": "no", "bundle_sha256": bundle.sha256},
        "lists": {"text": "Acme GmbH"},
        "bundle": builders.generated_bundle(run.pk, companies=1, prefix="Other"),
        "validate_bundle": builders.generated_bundle(run.pk, companies=1, prefix="Other"),
        "sources": {"kind": "text", "title": "t", "content_text": "some text " * 30},
        "partial_update": {"objective": "changed"}
        if route.model is ResearchRun
        else {"manual_notes": "changed"},
        "create": {"objective": "new"},
    }
    for action, body in bodies.items():
        if action in route.action.split("/"):
            return body
    return {}


def call(client: APIClient, method: str, url: str, body: dict[str, Any]) -> Any:
    if method in {"get", "delete"}:
        return getattr(client, method)(url)
    return getattr(client, method)(url, body, format="json")


def api_cases() -> list[Any]:
    return [
        pytest.param(route, method, id=f"{method.upper()} {route.name}")
        for route in API_ROUTES
        for method in route.methods
    ]


def test_the_walk_finds_the_api() -> None:
    names = {route.name for route in API_ROUTES}
    assert {"run-list", "run-detail", "run-approve", "prospect-detail", "job-detail"} <= names


@pytest.mark.parametrize(("route", "method"), api_cases())
def test_api_route_is_tenant_isolated(
    world: World, layers: str, api_client_for, route: Route, method: str
) -> None:
    tenant_b = TenantFactory(name="Beta Partners", slug="beta")
    url = reverse(route.name, kwargs=fill(route, world))
    missing_url = reverse(route.name, kwargs=fill(route, world, missing=True))
    body = body_for(route, world)

    own = call(api_client_for(world.tenant, MemberRole.ADMIN), method, url, body)
    assert own.status_code != NOT_FOUND, f"{method} {url} as tenant A: {own.content[:300]}"

    before = snapshot(world)
    for role in ROLES:
        client = api_client_for(tenant_b, role)
        response = call(client, method, url, body)
        found = leaks(response.content, world)
        assert not found, f"{method} {url} as B's {role} shows {found}"
        if route.kwargs_names:
            if response.status_code != NOT_FOUND:
                control = call(client, method, missing_url, body)
                assert response.status_code in REFUSED_BEFORE_LOOKUP, (
                    f"{method} {url} as B's {role}: {response.status_code}, not 404"
                )
                assert control.status_code == response.status_code, (
                    f"{method} {url} as B's {role}: {response.status_code} for A's object "
                    f"but {control.status_code} for a made-up id: the answer tells them apart"
                )
        else:
            assert response.status_code < 500
    assert snapshot(world) == before, f"{method} {url} by tenant B changed tenant A's rows"


# --- the admin ----------------------------------------------------------------------------


def admin_urls(world: World) -> list[tuple[str, str]]:
    """(label, url) of every admin page: changelists, add forms, each object page of A, the
    model admins' own views, and every autocomplete the admin offers."""
    urls = [("index", reverse("admin:index"))]
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        for route, pattern in walk(model_admin.urls):
            if not pattern.name:
                continue
            names = path_parameters(route)
            if not names:
                urls.append((pattern.name, reverse(f"admin:{pattern.name}")))
                continue
            obj = world.objects.get(model) or world.shared.get(model)
            assert obj is not None, (
                f"admin:{pattern.name}: no planted {opts.label} of tenant A; add one"
            )
            assert len(names) == 1, f"admin:{pattern.name}: cannot fill {names}; teach the matrix"
            urls.append((pattern.name, reverse(f"admin:{pattern.name}", args=[obj.pk])))
        for field_name in model_admin.autocomplete_fields:
            urls.append(
                (
                    f"autocomplete {opts.label}.{field_name}",
                    f"{reverse('admin:autocomplete')}?app_label={opts.app_label}"
                    f"&model_name={opts.model_name}&field_name={field_name}&term=alpha",
                )
            )
    return urls


@pytest.fixture
def staff_of_b(db: None) -> dict[str, Client]:
    tenant_b = TenantFactory(name="Beta Partners", slug="beta")
    clients = {}
    for role in ROLES:
        user = UserFactory(username=f"beta_{role}", is_staff=True)
        MembershipFactory(tenant=tenant_b, user=user, role=role)
        client = Client()
        client.force_login(user)
        clients[role] = client
    return clients


def test_no_admin_page_shows_tenant_a_to_staff_of_tenant_b(
    world: World, layers: str, staff_of_b
) -> None:
    urls = admin_urls(world)
    assert len(urls) > 30  # the walk found the admin
    problems = []
    for label, url in urls:
        for role, client in staff_of_b.items():
            # Drop the previous page's flash message: the admin echoes an id the user asked
            # for ("Bundle with ID … doesn't exist"), which is theirs, not A's data.
            client.cookies.pop("messages", None)
            response = client.get(url)
            if response.status_code >= 500:
                problems.append(f"{label} {url} as B's {role}: {response.status_code}")
            found = leaks(response.content, world)
            if found:
                shown = context_of(response.content, found[0])
                problems.append(f"{label} {url} as B's {role} shows {found}: {shown}")
            if response.status_code == 200 and any(pk in url for pk in world.owned_pks()):
                problems.append(f"{label} {url} as B's {role}: 200 for A's object")
    assert not problems, "\n".join(problems)


def test_admin_posts_to_tenant_a_objects_change_nothing(
    world: World, layers: str, staff_of_b
) -> None:
    before = snapshot(world)
    client = staff_of_b[MemberRole.ADMIN]
    for label, url in admin_urls(world):
        if any(pk in url for pk in world.owned_pks()):
            response = client.post(url, {"post": "yes", "note": "x", "name": "x", "title": "x"})
            assert response.status_code < 500, (label, url, response.status_code)
    assert snapshot(world) == before
