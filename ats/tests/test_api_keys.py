import pytest
from django.core.management import call_command

from ats import services
from ats.models import ApiKey, MemberRole


@pytest.mark.sqlite
def test_raw_key_is_not_stored(tenant_a) -> None:
    api_key, raw_key = services.api_key_create(tenant=tenant_a, role=MemberRole.ANALYST)
    stored = ApiKey.objects.filter(pk=api_key.pk).values().get()
    assert all(raw_key not in str(value) for value in stored.values())
    secret = raw_key.split("_", 2)[2]
    assert all(secret not in str(value) for value in stored.values())
    assert stored["key_hash"] == ApiKey.hash_key(raw_key)
    assert api_key.matches(raw_key) and not api_key.matches(raw_key + "x")


def test_create_api_key_command_prints_key_alone_on_last_line(tenant_a, capsys) -> None:
    call_command("create_api_key", "--tenant", "alpha", "--role", "reviewer", "--name", "ci")
    output = capsys.readouterr()
    raw_key = output.out.strip().splitlines()[-1]
    api_key = ApiKey.objects.get(tenant=tenant_a, name="ci")
    assert api_key.role == MemberRole.REVIEWER
    assert api_key.matches(raw_key)
    assert raw_key not in output.err
