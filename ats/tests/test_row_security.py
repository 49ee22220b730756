"""Row-level security: the database itself keeps each tenant's rows from the others.

The whole suite runs as a role that is neither a superuser nor exempt from row-level security
(`ats_test_app`, see conftest.py), so every test exercises the policies; these tests check the
policies themselves, a role that does not own the tables, and where each scope is set.
"""

from __future__ import annotations

import psycopg
import pytest
from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from psycopg import sql

import jobs
from ats.db.operations import POLICY_NAME
from ats.middleware import TenantScopeMiddleware
from ats.models import Company, Tenant
from ats.tenant_scope import (
    ALL_TENANTS,
    NO_TENANT,
    current_scope,
    system_scope,
    tenant_scope,
)
from ats.tests.factories import CompanyFactory, MembershipFactory, UserFactory

# Shared infrastructure without a tenant policy, and why.
WITHOUT_ROW_SECURITY = {
    # The queue: workers claim across tenants on the hot path; its API and admin filter by
    # tenant, and payloads carry ids only, never tenant data.
    "jobs.Job": "the queue is shared; claims span tenants",
}
READER_ROLE = "ats_rls_reader"


def _has_tenant(model: type) -> bool:
    return model is Tenant or any(f.name == "tenant" for f in model._meta.concrete_fields)


def tenant_tables() -> list[tuple[str, str]]:
    """(model label, table) of every model that belongs to a tenant: it has a tenant, or it
    links rows that have one (a many-to-many table such as a run's sources)."""
    found = []
    for model in apps.get_models():
        label = model._meta.label
        if label in WITHOUT_ROW_SECURITY or model._meta.proxy or not model._meta.managed:
            continue
        links_tenant_rows = any(
            f.many_to_one and f.related_model is not Tenant and _has_tenant(f.related_model)
            for f in model._meta.concrete_fields
        )
        if _has_tenant(model) or links_tenant_rows:
            found.append((label, model._meta.db_table))
    return found


def test_the_tests_run_as_a_role_that_row_security_holds_for(db: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        assert cursor.fetchone() == (settings.TEST_DATABASE_ROLE, False, False)


def test_every_tenant_table_has_a_forced_tenant_policy(db: None) -> None:
    tables = dict(tenant_tables())
    # The walk finds tenant rows and link tables (names as strings: ats imports no research).
    assert {"ats.Tenant", "research.Prospect", "research.RunSource"} <= set(tables)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_policy p ON p.polrelid = c.oid "
            "WHERE c.relrowsecurity AND c.relforcerowsecurity AND p.polname = %s",
            [POLICY_NAME],
        )
        protected = {row[0] for row in cursor.fetchall()}
    missing = sorted(label for label, table in tables.items() if table not in protected)
    assert not missing, (
        f"Tenant tables without row-level security: {missing}. Add "
        "`ats.db.operations.EnableTenantRowSecurity(<model>)` to a migration of their app."
    )


@pytest.fixture
def two_tenants_rows(tenant_a: Tenant, tenant_b: Tenant) -> dict[str, Company]:
    return {
        "a": CompanyFactory(tenant=tenant_a, name="Alpha Robotics"),
        "b": CompanyFactory(tenant=tenant_b, name="Beta Secret Holdings"),
    }


def visible_tenants() -> set[int]:
    return set(Company.objects.values_list("tenant_id", flat=True))


def test_an_unfiltered_query_sees_only_the_scope_tenants(two_tenants_rows, tenant_a, tenant_b):
    with tenant_scope(NO_TENANT):
        assert visible_tenants() == set()
        assert not Tenant.objects.exists()
    with tenant_scope([tenant_a.pk]):
        assert visible_tenants() == {tenant_a.pk}
        assert list(Tenant.objects.values_list("pk", flat=True)) == [tenant_a.pk]
    with tenant_scope([tenant_a.pk, tenant_b.pk]), transaction.atomic():
        assert visible_tenants() == {tenant_a.pk, tenant_b.pk}
        with tenant_scope([tenant_b.pk]):  # a change of scope inside a transaction applies
            assert visible_tenants() == {tenant_b.pk}
        assert visible_tenants() == {tenant_a.pk, tenant_b.pk}
    with system_scope():
        assert visible_tenants() == {tenant_a.pk, tenant_b.pk}


def test_writes_outside_the_scope_are_refused(two_tenants_rows, tenant_a, tenant_b) -> None:
    with tenant_scope([tenant_a.pk]):
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            Company.objects.create(tenant=tenant_b, name="Planted", normalized_name="planted")
        # Another tenant's rows cannot be changed or deleted: they are not even there.
        assert Company.objects.filter(pk=two_tenants_rows["b"].pk).update(name="x") == 0
        assert Company.objects.filter(pk=two_tenants_rows["b"].pk).delete()[0] == 0
    two_tenants_rows["b"].refresh_from_db()
    assert two_tenants_rows["b"].name == "Beta Secret Holdings"


def test_a_savepoint_rollback_does_not_lose_the_scope(two_tenants_rows, tenant_a) -> None:
    with tenant_scope([tenant_a.pk]), transaction.atomic():
        try:
            with transaction.atomic():
                assert visible_tenants() == {tenant_a.pk}
                raise RuntimeError("roll back to the savepoint")
        except RuntimeError:
            pass
        assert visible_tenants() == {tenant_a.pk}


@pytest.fixture
def reader_connection(transactional_db: None):
    """A connection as a role that neither owns the tables nor is a superuser, and may only
    read them: the application's role in a deployment with separate owner and app roles."""
    database = connection.settings_dict
    owner_params = {
        "dbname": database["NAME"],
        "user": database["USER"],
        "password": database["PASSWORD"] or None,
        "host": database["HOST"] or None,
        "port": database["PORT"] or None,
    }
    params = {key: value for key, value in owner_params.items() if value}
    with psycopg.connect(**params, autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [READER_ROLE]).fetchone():
            admin.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(READER_ROLE)))
        admin.execute(
            sql.SQL("GRANT {} TO {}").format(
                sql.Identifier(READER_ROLE), sql.Identifier(database["USER"])
            )
        )
        admin.execute(
            sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(
                sql.Identifier(READER_ROLE)
            )
        )
    with psycopg.connect(**params, autocommit=True) as reader:
        reader.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(READER_ROLE)))
        yield reader


def test_a_non_owner_role_sees_nothing_without_the_setting_and_one_tenant_with_it(
    reader_connection, tenant_a, tenant_b
) -> None:
    CompanyFactory(tenant=tenant_a, name="Alpha Robotics")
    CompanyFactory(tenant=tenant_b, name="Beta Secret Holdings")
    role, owner = reader_connection.execute(
        "SELECT current_user, (SELECT tableowner FROM pg_tables WHERE tablename = 'ats_company')"
    ).fetchone()
    assert (role, role == owner) == (READER_ROLE, False)

    def names() -> list[str]:
        return [
            row[0]
            for row in reader_connection.execute("SELECT name FROM ats_company ORDER BY name")
        ]

    assert names() == []  # no setting at all
    with reader_connection.transaction():
        reader_connection.execute(
            "SELECT set_config('ats.tenant_ids', %s, true)", [str(tenant_a.pk)]
        )
        assert names() == ["Alpha Robotics"]
        assert reader_connection.execute("SELECT count(*) FROM ats_tenant").fetchone() == (1,)
    assert names() == []  # SET LOCAL ended with the transaction


def test_each_request_starts_with_no_tenant_and_staff_see_their_tenants(tenant_a, tenant_b) -> None:
    seen = []
    middleware = TenantScopeMiddleware(lambda request: seen.append(current_scope()) or None)
    member = MembershipFactory(tenant=tenant_b).user
    superuser = UserFactory(is_superuser=True)
    from django.contrib.auth.models import AnonymousUser

    for user in (AnonymousUser(), member, superuser):
        request = RequestFactory().get("/admin/")
        request.user = user
        middleware(request)
    assert seen == [NO_TENANT, frozenset([tenant_b.pk]), ALL_TENANTS]
    assert current_scope() is ALL_TENANTS  # the tests' own default is restored


def test_an_api_request_sees_only_the_key_tenant(api_client_for, tenant_a, tenant_b) -> None:
    CompanyFactory(tenant=tenant_b, name="Beta Secret Holdings")
    response = api_client_for(tenant_a).get("/api/v1/companies/")
    assert response.status_code == 200
    assert "Beta Secret" not in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_job_runs_in_its_tenant_scope(tenant_a, tenant_b) -> None:
    from django.core.management import call_command

    tenant_job = jobs.enqueue("testapp.visible_tenants", tenant=tenant_a)
    system_job = jobs.enqueue("testapp.visible_tenants")
    call_command("runworker", burst=True)
    tenant_job.refresh_from_db()
    system_job.refresh_from_db()
    assert tenant_job.result == [tenant_a.pk]
    assert system_job.result == sorted([tenant_a.pk, tenant_b.pk])
