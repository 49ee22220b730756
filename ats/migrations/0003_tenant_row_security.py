"""Row-level security on every tenant table of the ats app (PostgreSQL; see ats.tenant_scope)."""

from django.db import migrations

from ats.db.operations import EnableTenantRowSecurity


class Migration(migrations.Migration):
    dependencies = [("ats", "0002_idempotency_record")]

    operations = [
        EnableTenantRowSecurity("tenant", column="id"),
        EnableTenantRowSecurity("membership"),
        EnableTenantRowSecurity("apikey"),
        EnableTenantRowSecurity("company"),
        EnableTenantRowSecurity("companyalias"),
        EnableTenantRowSecurity("role"),
        EnableTenantRowSecurity("idempotencyrecord"),
    ]
