import pytest
from django.apps import apps

from ats.models import Company, TenantQuerySet

from .factories import CompanyFactory


def tenant_models() -> list[type]:
    return [
        model
        for model in apps.get_models()
        if any(field.name == "tenant" for field in model._meta.get_fields())
    ]


def test_tenant_models_exist() -> None:
    # Guards the test below against passing on an empty list.
    assert Company in tenant_models()


@pytest.mark.parametrize("model", tenant_models(), ids=lambda model: model._meta.label)
def test_every_tenant_model_has_a_tenant_scoped_manager(model: type) -> None:
    queryset = model._default_manager.all()
    assert isinstance(queryset, TenantQuerySet), (
        f"{model._meta.label} has a tenant field but its default manager does not use "
        "TenantQuerySet (inherit TenantScopedModel, or base its QuerySet on TenantQuerySet)."
    )


@pytest.mark.sqlite
def test_for_tenant_filters_and_refuses_none(tenant_a, tenant_b) -> None:
    mine = CompanyFactory(tenant=tenant_a)
    CompanyFactory(tenant=tenant_b)
    assert list(Company.objects.for_tenant(tenant_a)) == [mine]
    with pytest.raises(ValueError, match="needs a tenant"):
        Company.objects.for_tenant(None)
