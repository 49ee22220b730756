"""ats.bulk on PostgreSQL: rows as one JSON document, inserted under row-level security."""

import datetime
import decimal
import uuid

import pytest
from django.core.exceptions import FieldDoesNotExist
from django.db import IntegrityError, connection, transaction

from ats.bulk import bulk_insert, bulk_insert_with_ids, pipelined
from ats.models import Company, CompanyAlias, IdempotencyRecord, Tenant
from ats.tenant_scope import tenant_scope

pytestmark = pytest.mark.django_db


def company_rows(tenant: Tenant, count: int) -> list[dict]:
    return [
        {"tenant_id": tenant.pk, "name": f"Co {i}", "normalized_name": f"co {i}"}
        for i in range(count)
    ]


def test_ids_come_back_in_the_order_of_the_rows(tenant_a: Tenant) -> None:
    with tenant_scope({tenant_a.pk}), transaction.atomic():
        ids = bulk_insert_with_ids(Company, company_rows(tenant_a, 5))

    assert [Company.objects.get(pk=i).name for i in ids] == [f"Co {i}" for i in range(5)]
    # The sequence moved past them: the ORM's next company does not collide.
    assert Company.objects.create(tenant=tenant_a, name="N", normalized_name="n").pk > max(ids)


def test_rows_may_name_different_fields_and_foreign_keys_either_way(tenant_a: Tenant) -> None:
    company = Company.objects.create(tenant=tenant_a, name="Acme", normalized_name="acme")
    rows = [
        {"tenant_id": tenant_a.pk, "company": company, "alias": "A", "normalized_alias": "a"},
        {
            "tenant": tenant_a,
            "company_id": company.pk,
            "normalized_alias": "b",
            "alias": "B",
            "alias_type": "trade",
        },
    ]

    with tenant_scope({tenant_a.pk}), transaction.atomic():
        assert bulk_insert(CompanyAlias, rows) == 2

    stored = CompanyAlias.objects.order_by("alias")
    assert list(stored.values_list("alias", "alias_type", "company_id", "normalized_alias")) == [
        ("A", "other", company.pk, "a"),  # the model's default type
        ("B", "trade", company.pk, "b"),
    ]
    assert all(alias.created_at is not None for alias in stored)


def test_json_values_are_stored_as_documents(tenant_a: Tenant) -> None:
    body = {"text": 'quote " and \\ and é', "list": [1, 2.5, None, True], "nested": {"a": {}}}
    rows = [
        {"tenant_id": tenant_a.pk, "key": "k1", "request_sha256": "0" * 64, "response_body": body},
        {"tenant_id": tenant_a.pk, "key": "k2", "request_sha256": "0" * 64},  # null
        {"tenant_id": tenant_a.pk, "key": "k3", "request_sha256": "0" * 64, "response_body": []},
    ]

    with tenant_scope({tenant_a.pk}), transaction.atomic():
        bulk_insert(IdempotencyRecord, rows)

    stored = IdempotencyRecord.objects.order_by("key").values_list("response_body", flat=True)
    assert list(stored) == [body, None, []]


def test_json_beyond_what_orjson_writes_is_stored_too(tenant_a: Tenant) -> None:
    # Integers beyond 64 bits are valid JSON (and arrive in free-form metadata).
    body = {"big": 2**70, "negative": -(2**65), "date": datetime.date(2026, 1, 2)}
    rows = [
        {"tenant_id": tenant_a.pk, "key": "k", "request_sha256": "0" * 64, "response_body": body}
    ]

    with tenant_scope({tenant_a.pk}), transaction.atomic():
        bulk_insert(IdempotencyRecord, rows)

    stored = IdempotencyRecord.objects.values_list("response_body", flat=True).get()
    assert stored == {**body, "date": "2026-01-02"}


def test_a_value_of_no_json_type_is_refused_by_name(tenant_a: Tenant) -> None:
    rows = [
        {"tenant_id": tenant_a.pk, "key": "k", "request_sha256": "0" * 64, "response_body": {1j}}
    ]

    with pytest.raises(TypeError, match="Cannot insert a set value"), transaction.atomic():
        bulk_insert(IdempotencyRecord, rows)


def test_ignored_conflicts_are_skipped_and_not_counted(tenant_a: Tenant) -> None:
    Company.objects.create(tenant=tenant_a, name="Old", normalized_name="old", domain="a.com")
    rows = [
        {"tenant_id": tenant_a.pk, "name": "A", "normalized_name": "a", "domain": "a.com"},
        {"tenant_id": tenant_a.pk, "name": "B", "normalized_name": "b", "domain": "b.com"},
    ]

    with tenant_scope({tenant_a.pk}), transaction.atomic():
        assert bulk_insert(Company, rows, ignore_conflicts=True) == 1

    assert sorted(Company.objects.values_list("name", flat=True)) == ["B", "Old"]


def test_a_conflict_fails_the_whole_insert(tenant_a: Tenant) -> None:
    Company.objects.create(tenant=tenant_a, name="Old", normalized_name="old", domain="a.com")
    rows = [
        {"tenant_id": tenant_a.pk, "name": "B", "normalized_name": "b", "domain": "b.com"},
        {"tenant_id": tenant_a.pk, "name": "A", "normalized_name": "a", "domain": "a.com"},
    ]

    with pytest.raises(IntegrityError), tenant_scope({tenant_a.pk}), transaction.atomic():
        bulk_insert(Company, rows)

    assert list(Company.objects.values_list("name", flat=True)) == ["Old"]


def test_rows_of_another_tenant_are_refused_by_row_level_security(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    with (
        pytest.raises(Exception, match="row-level security"),
        tenant_scope({tenant_a.pk}),
        transaction.atomic(),
    ):
        bulk_insert_with_ids(Company, company_rows(tenant_b, 2))

    assert not Company.objects.exists()


def test_timestamps_keep_their_microseconds(tenant_a: Tenant) -> None:
    when = datetime.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=datetime.UTC)
    rows = [{**company_rows(tenant_a, 1)[0], "created_at": when}]

    with tenant_scope({tenant_a.pk}), transaction.atomic():
        bulk_insert(Company, rows)

    assert Company.objects.get().created_at == when


def test_offsets_with_seconds_dates_and_decimals_are_stored_exactly(tenant_a: Tenant) -> None:
    # Amsterdam's offset before 1937 had seconds; orjson would write minutes only.
    amsterdam_1930 = datetime.timezone(datetime.timedelta(minutes=19, seconds=32))
    when = datetime.datetime(1930, 5, 6, 7, 8, 9, 10, tzinfo=amsterdam_1930)
    body = {"on": datetime.date(2026, 1, 2), "at": datetime.time(3, 4, 5, 6)}
    body |= {"amount": decimal.Decimal("12.340"), "id": uuid.UUID(int=7)}
    rows = [{"tenant_id": tenant_a.pk, "key": "k", "request_sha256": "0" * 64}]
    rows[0] |= {"created_at": when, "response_body": body}

    with tenant_scope({tenant_a.pk}), transaction.atomic():
        bulk_insert(IdempotencyRecord, rows)

    stored = IdempotencyRecord.objects.get()
    assert stored.created_at == when
    assert stored.response_body == {
        "on": "2026-01-02",
        "at": "03:04:05.000006",
        "amount": "12.340",
        "id": str(uuid.UUID(int=7)),
    }


def test_a_name_that_is_no_field_is_refused(tenant_a: Tenant) -> None:
    rows = [{**company_rows(tenant_a, 1)[0], "nickname": "x"}]

    with pytest.raises(FieldDoesNotExist, match="nickname"), transaction.atomic():
        bulk_insert(Company, rows)


def test_text_comes_back_exactly_as_given(tenant_a: Tenant) -> None:
    name = 'Zürich 😀 "quoted" \\ back\tslash\nnew line \u200b \u00a0 \U0001f600 ‰'
    rows = [{**company_rows(tenant_a, 1)[0], "name": name, "description": "x" * 10_000}]

    with tenant_scope({tenant_a.pk}), transaction.atomic():
        bulk_insert(Company, rows)

    assert Company.objects.values_list("name", flat=True).get() == name


def test_common_values_fill_every_row_unless_a_row_names_its_own(tenant_a: Tenant) -> None:
    company = Company.objects.create(tenant=tenant_a, name="Acme", normalized_name="acme")
    rows = [
        {"alias": "A", "normalized_alias": "a"},
        {"alias": "B", "normalized_alias": "b", "alias_type": "trade"},
    ]

    with tenant_scope({tenant_a.pk}), transaction.atomic():
        bulk_insert(
            CompanyAlias,
            rows,
            common={"tenant": tenant_a, "company_id": company.pk, "alias_type": "legal"},
        )

    stored = CompanyAlias.objects.order_by("alias").values_list("alias", "alias_type", "company_id")
    assert list(stored) == [("A", "legal", company.pk), ("B", "trade", company.pk)]


def test_pipelined_statements_run_in_order_and_a_read_sees_them(tenant_a: Tenant) -> None:
    with tenant_scope({tenant_a.pk}), transaction.atomic(), pipelined():
        assert connection.connection.pgconn.pipeline_status  # on: statements are not awaited
        bulk_insert(Company, company_rows(tenant_a, 2))
        bulk_insert(Company, [{**company_rows(tenant_a, 3)[2]}])
        names = sorted(Company.objects.values_list("name", flat=True))

    assert names == ["Co 0", "Co 1", "Co 2"]


def test_skipped_rows_are_counted_in_a_pipeline_too(tenant_a: Tenant) -> None:
    Company.objects.create(tenant=tenant_a, name="Old", normalized_name="old", domain="a.com")
    rows = [
        {"tenant_id": tenant_a.pk, "name": "A", "normalized_name": "a", "domain": "a.com"},
        {"tenant_id": tenant_a.pk, "name": "B", "normalized_name": "b", "domain": "b.com"},
    ]

    with tenant_scope({tenant_a.pk}), transaction.atomic(), pipelined():
        assert bulk_insert(Company, rows, ignore_conflicts=True) == 1


def test_a_pipelined_error_is_djangos_and_nothing_is_written(tenant_a: Tenant) -> None:
    first = [{**row, "domain": f"d{i}.com"} for i, row in enumerate(company_rows(tenant_a, 2))]
    clash = [{**first[0], "name": "Clash"}]  # the same domain: a unique violation

    with (
        pytest.raises(IntegrityError),
        tenant_scope({tenant_a.pk}),
        transaction.atomic(),
        pipelined(),
    ):
        assert connection.connection.pgconn.pipeline_status
        bulk_insert(Company, first)
        bulk_insert(Company, clash)  # sent; its error comes back by the block's end
        bulk_insert(Company, company_rows(tenant_a, 1))

    assert not Company.objects.exists()
