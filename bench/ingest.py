#!/usr/bin/env python
"""Ingestion benchmark (not a test): a realistic 5,000-company bundle on PostgreSQL.

The bundle: 5,000 companies with 3 evidence snippets and 3 metrics each, 1,000 sources of
about 4 KB, and a third of the companies already known to the tenant (by domain). Prints
time, companies per second and the number of queries of each phase. Goal on a 2-core
machine: at least 2,000 companies/s for the ingestion itself.

Run: `make bench` (finds or starts PostgreSQL like `make test`), or
`DATABASE_URL=postgres://... .venv/bin/python bench/ingest.py [--companies N]`.
It works in a throwaway database `test_<name>`, created and dropped here.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ats.settings_test")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=5_000)
    parser.add_argument("--sources", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs; the best is reported")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("The benchmark runs on PostgreSQL: set DATABASE_URL=postgres://...", file=sys.stderr)
        return 2

    from ats.actors import Actor
    from ats.models import Company, Tenant
    from ats.normalize import normalize_company_name
    from research.inputs import RunCreate
    from research.schemas import validate_bundle
    from research.services import bundles as bundle_services
    from research.services.ingest import bundle_ingest
    from research.services.runs import run_create
    from research.tests.builders import generated_bundle

    old_name = connection.settings_dict["NAME"]
    test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    print(f"database {test_name} on {connection.settings_dict['HOST'] or 'localhost'}")
    actor = Actor.system("bench")
    results = []
    try:
        for attempt in range(1, args.repeat + 1):
            tenant = Tenant.objects.create(name=f"Bench {attempt}", slug=f"bench-{attempt}")
            run, _ = run_create(tenant=tenant, data=RunCreate(objective="bench"), actor=actor)
            started = time.perf_counter()
            payload = generated_bundle(
                run.pk,
                companies=args.companies,
                sources=args.sources,
                source_padding=4_000,
                prefix=f"B{attempt}",
            )
            generated = time.perf_counter() - started
            known = payload["proposal_json"]["companies"][::3]
            Company.objects.bulk_create(
                Company(
                    tenant=tenant,
                    name=c["name"],
                    normalized_name=normalize_company_name(c["name"]),
                    domain=c["domain"],
                )
                for c in known
            )
            t0 = time.perf_counter()
            validation = validate_bundle(payload, expected_run_id=run.pk)
            t_validate = time.perf_counter() - t0
            assert validation.ok, validation.errors[:3]

            t0 = time.perf_counter()
            with CaptureQueriesContext(connection) as upload_queries:
                bundle = bundle_services.bundle_upload(run=run, payload=payload, actor=actor).bundle
                bundle_services.bundle_approve(bundle=bundle, actor=actor)
            t_upload = time.perf_counter() - t0

            t0 = time.perf_counter()
            with CaptureQueriesContext(connection) as ingest_queries, transaction.atomic():
                counts = bundle_ingest(bundle=bundle)
            t_ingest = time.perf_counter() - t0
            results.append(t_ingest)
            print(
                f"run {attempt}: generate {generated:.2f}s | validate {t_validate:.2f}s | "
                f"upload+approve {t_upload:.2f}s ({len(upload_queries)} queries) | "
                f"ingest {t_ingest:.2f}s ({len(ingest_queries)} queries): "
                f"{args.companies / t_ingest:,.0f} companies/s"
            )
            print(
                f"        companies new {counts.companies_new}, matched "
                f"{counts.companies_matched}; prospects {counts.prospects_created}; evidence "
                f"{counts.evidence_added} ({counts.unverified_evidence} unverified); metrics "
                f"{counts.metrics_added}; sources {counts.sources_added}"
            )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    best = min(results)
    print(
        f"best: ingest of {args.companies:,} companies in {best:.2f}s = "
        f"{args.companies / best:,.0f} companies/s (goal: 2,000)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
