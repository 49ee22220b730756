"""A tenant with one of everything the API serves, and the API's operations filled with it.

The hostile-input table and the schema fuzzer walk every operation of the OpenAPI schema, so a
new endpoint is covered without being listed; a path whose parameters cannot be filled from
the world fails the test that walks it, with what to add here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import connection, transaction
from drf_spectacular.generators import SchemaGenerator

from ats.actors import Actor
from ats.models import Company, Tenant
from jobs.models import Job
from research.inputs import RunCreate
from research.models import Prospect, ResearchRun, Source
from research.services import bundles as bundle_services
from research.services.ingest import bundle_ingest
from research.services.runs import run_create

from . import builders

SYSTEM = Actor.system("test")
_PARAMETER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class World:
    tenant: Tenant
    run: ResearchRun  # ingested: prospects, evidence, metrics, sources, jobs
    company: Company
    prospect: Prospect
    source: Source
    job: Job

    def object_for(self, collection: str) -> Any:
        """The object an `/api/v1/<collection>/{id}/` path is about."""
        return {
            "runs": self.run,
            "companies": self.company,
            "prospects": self.prospect,
            "sources": self.source,
            "jobs": self.job,
        }.get(collection)

    def fill_id(self, path: str) -> Any:
        """The id for `path`'s `{id}`, or an AssertionError saying what is missing."""
        collection = path.removeprefix("/api/v1/").split("/")[0]
        found = self.object_for(collection)
        names = _PARAMETER.findall(path)
        assert found is not None and names == ["id"], (
            f"{path}: no object of the test world fills {names}; add one to research/tests/world.py"
        )
        return found.pk

    def fill(self, path: str) -> str:
        """`path` with its `{id}` filled (see `fill_id`)."""
        return path.replace("{id}", str(self.fill_id(path))) if "{" in path else path


def build_world(tenant: Tenant, *, companies: int = 3) -> World:
    run, _ = run_create(tenant=tenant, data=RunCreate(objective="World run"), actor=SYSTEM)
    payload = builders.generated_bundle(run.pk, companies=companies)
    bundle = bundle_services.bundle_upload(run=run, payload=payload, actor=SYSTEM).bundle
    bundle_services.bundle_approve(bundle=bundle, actor=SYSTEM)
    with transaction.atomic():
        bundle_ingest(bundle=bundle)
    prospect = Prospect.objects.filter(run=run).select_related("company").first()
    assert prospect is not None
    return World(
        tenant=tenant,
        run=run,
        company=prospect.company,
        prospect=prospect,
        source=Source.objects.for_tenant(tenant).first(),
        job=Job.objects.for_tenant(tenant).first(),
    )


def api_schema() -> dict[str, Any]:
    """The OpenAPI schema, as `/api/schema/` serves it."""
    return SchemaGenerator().get_schema(request=None, public=True)


def api_operations() -> list[tuple[str, str, dict[str, Any]]]:
    """Every (METHOD, path, operation) of the OpenAPI schema."""
    schema = api_schema()
    return [
        (method.upper(), path, operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    ]


def row_counts() -> dict[str, int]:
    """Rows of every table of every model: what a refused request must leave as it was.

    One query (a UNION of counts), as the hostile-input table asks it hundreds of times."""
    tables = sorted({model._meta.db_table for model in apps.get_models()})
    quote = connection.ops.quote_name
    sql = " UNION ALL ".join(f"SELECT '{table}', COUNT(*) FROM {quote(table)}" for table in tables)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return dict(cursor.fetchall())
