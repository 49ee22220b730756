"""Row-level security on every tenant table of the research app (PostgreSQL; see
ats.tenant_scope). A run's link to a source is visible when the run is."""

from django.db import migrations

from ats.db.operations import EnableTenantRowSecurity


class Migration(migrations.Migration):
    dependencies = [("research", "0001_initial"), ("ats", "0003_tenant_row_security")]

    operations = [
        EnableTenantRowSecurity("researchrun"),
        EnableTenantRowSecurity("bundle"),
        EnableTenantRowSecurity("runstep"),
        EnableTenantRowSecurity("source"),
        EnableTenantRowSecurity("runsource", column="run_id", through="research.ResearchRun"),
        EnableTenantRowSecurity("runevent"),
        EnableTenantRowSecurity("prospect"),
        EnableTenantRowSecurity("prospectevidence"),
        EnableTenantRowSecurity("prospectmetric"),
    ]
