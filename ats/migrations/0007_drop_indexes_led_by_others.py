"""Drop the indexes of single foreign keys that lead another index of their table (a
unique constraint or a composite index): they served no query and cost every insert.

Only the indexes go: letting Django alter the fields would also drop and re-add each foreign
key, which checks every row of the table again under lock.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('ats', '0006_renormalize_names'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='company',
                    name='tenant',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='ats.tenant'),
                ),
                migrations.AlterField(
                    model_name='companyalias',
                    name='company',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='aliases', to='ats.company'),
                ),
                migrations.AlterField(
                    model_name='companyalias',
                    name='tenant',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='ats.tenant'),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "ats_company_tenant_id_fa0e9e0e"',
                    'CREATE INDEX "ats_company_tenant_id_fa0e9e0e" ON "ats_company" ("tenant_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "ats_companyalias_company_id_0005d8ad"',
                    'CREATE INDEX "ats_companyalias_company_id_0005d8ad" ON "ats_companyalias" ("company_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "ats_companyalias_tenant_id_3c96ca4c"',
                    'CREATE INDEX "ats_companyalias_tenant_id_3c96ca4c" ON "ats_companyalias" ("tenant_id")',
                ),
            ],
        ),
    ]
