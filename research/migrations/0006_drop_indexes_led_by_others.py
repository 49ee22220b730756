"""Drop the indexes of single foreign keys that lead another index of their table (a
unique constraint or a composite index): they served no query and cost every insert.

Only the indexes go: letting Django alter the fields would also drop and re-add each foreign
key, which checks every row of the table again under lock.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('ats', '0007_drop_indexes_led_by_others'),
        ('research', '0005_bundle_request_id'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='prospect',
                    name='run',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='prospects', to='research.researchrun'),
                ),
                migrations.AlterField(
                    model_name='prospect',
                    name='tenant',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='ats.tenant'),
                ),
                migrations.AlterField(
                    model_name='prospectevidence',
                    name='prospect',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='evidence', to='research.prospect'),
                ),
                migrations.AlterField(
                    model_name='prospectmetric',
                    name='prospect',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='metrics', to='research.prospect'),
                ),
                migrations.AlterField(
                    model_name='runsource',
                    name='run',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, to='research.researchrun'),
                ),
                migrations.AlterField(
                    model_name='source',
                    name='tenant',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='ats.tenant'),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "research_prospect_run_id_3bb14745"',
                    'CREATE INDEX "research_prospect_run_id_3bb14745" ON "research_prospect" ("run_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "research_prospect_tenant_id_38b34647"',
                    'CREATE INDEX "research_prospect_tenant_id_38b34647" ON "research_prospect" ("tenant_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "research_prospectevidence_prospect_id_1eceb22f"',
                    'CREATE INDEX "research_prospectevidence_prospect_id_1eceb22f" ON "research_prospectevidence" ("prospect_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "research_prospectmetric_prospect_id_1879f227"',
                    'CREATE INDEX "research_prospectmetric_prospect_id_1879f227" ON "research_prospectmetric" ("prospect_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "research_runsource_run_id_4edd7926"',
                    'CREATE INDEX "research_runsource_run_id_4edd7926" ON "research_runsource" ("run_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "research_source_tenant_id_77a8522f"',
                    'CREATE INDEX "research_source_tenant_id_77a8522f" ON "research_source" ("tenant_id")',
                ),
            ],
        ),
    ]
