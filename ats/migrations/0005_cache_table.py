"""The database cache's table (rate limits are counted there), created with the schema so that
every setup path that migrates has it: `make run`, the README's production steps, the tests.

`manage.py createcachetable` does the same, and creates it again after CACHE_URL names
another table; it skips tables that exist.
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_tables(apps, schema_editor) -> None:
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("ats", "0004_backfill_checkpoint")]

    operations = [migrations.RunPython(create_cache_tables, migrations.RunPython.noop)]
