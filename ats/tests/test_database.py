import pytest
from django.db import connection


def test_main_suite_runs_on_postgresql(db) -> None:
    """`make test` must run the suite on PostgreSQL, never silently on SQLite."""
    assert connection.vendor == "postgresql", connection.vendor
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        assert cursor.fetchone()[0].startswith("PostgreSQL")


# Foreign keys whose own index was dropped (ats 0007, research 0006): another index of the
# table leads with them.
KEYS_LED_BY_ANOTHER_INDEX = [
    ("ats_company", "tenant_id"),
    ("ats_companyalias", "company_id"),
    ("ats_companyalias", "tenant_id"),
    ("research_prospect", "run_id"),
    ("research_prospect", "tenant_id"),
    ("research_prospectevidence", "prospect_id"),
    ("research_prospectmetric", "prospect_id"),
    ("research_runsource", "run_id"),
    ("research_source", "tenant_id"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("table", "column"), KEYS_LED_BY_ANOTHER_INDEX)
def test_a_key_that_leads_another_index_has_none_of_its_own(table: str, column: str) -> None:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table).values()
    indexes = [c["columns"] for c in constraints if c["index"] or c["unique"]]

    assert [column] not in indexes  # a wrong name in the migration would have left it
    assert any(len(columns) > 1 and columns[0] == column for columns in indexes)
