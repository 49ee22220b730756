"""Normalized names and aliases again: normalization now drops invisible format characters
(zero-width space, joiners, soft hyphen, BOM...) instead of reading them as spaces, so
"A\\u200bcme" matches "Acme". Only rows whose key changes are written, in batches; an alias
that would now equal another alias of its company keeps its old key (they are unique per
company)."""

from django.db import migrations

from ats.normalize import normalize_company_name

BATCH = 2_000


def renormalize(apps, schema_editor) -> None:
    Company = apps.get_model("ats", "Company")
    changed = []
    for company in Company.objects.only("id", "name", "normalized_name").iterator(BATCH):
        normalized = normalize_company_name(company.name)
        if normalized != company.normalized_name:
            company.normalized_name = normalized
            changed.append(company)
    Company.objects.bulk_update(changed, ["normalized_name"], batch_size=BATCH)

    CompanyAlias = apps.get_model("ats", "CompanyAlias")
    aliases = CompanyAlias.objects.only("id", "company_id", "alias", "normalized_alias")
    taken = set(aliases.values_list("company_id", "normalized_alias"))
    changed = []
    for alias in aliases.iterator(BATCH):
        normalized = normalize_company_name(alias.alias)
        if normalized != alias.normalized_alias and (alias.company_id, normalized) not in taken:
            taken.add((alias.company_id, normalized))
            alias.normalized_alias = normalized
            changed.append(alias)
    CompanyAlias.objects.bulk_update(changed, ["normalized_alias"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [("ats", "0005_cache_table")]

    operations = [migrations.RunPython(renormalize, migrations.RunPython.noop, elidable=True)]
