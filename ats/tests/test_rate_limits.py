"""Rate limits (issue 11 §5), on the shared database cache, with a frozen clock."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from ats import services
from ats.admin_login import MSG_LOCKED
from ats.models import MemberRole
from ats.rates import parse_rate

from .factories import UserFactory

PROBLEM = "application/problem+json"
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
COMPANIES = "/api/v1/companies/"


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


@pytest.fixture
def limits(settings):
    """`limits(api_key="3/min", ...)`: these rates, every other limit off."""

    def set_limits(**rates: str) -> None:
        settings.RATE_LIMITS = dict.fromkeys(django_settings.RATE_LIMITS, "") | rates

    return set_limits


def assert_throttled(response, *, retry_after: int) -> None:
    assert response.status_code == 429, response.content
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "throttled"
    assert int(response["Retry-After"]) == retry_after


def test_the_cache_is_shared_by_every_process() -> None:
    backend = django_settings.CACHES["default"]["BACKEND"]
    assert backend == "django.core.cache.backends.db.DatabaseCache"


def test_defaults_suit_an_automation_client() -> None:
    per_key, period = parse_rate(django_settings.RATE_LIMITS["api_key"])
    assert per_key / period * 60 >= 300  # a few hundred requests a minute per key


def test_per_api_key(clock, limits, tenant_a, api_client_for) -> None:
    limits(api_key="3/min")
    client, other = api_client_for(tenant_a), api_client_for(tenant_a)

    assert [client.get(COMPANIES).status_code for _ in range(3)] == [200, 200, 200]
    clock.shift(20)
    assert_throttled(client.get(COMPANIES), retry_after=40)
    assert other.get(COMPANIES).status_code == 200  # another key has its own budget

    clock.shift(41)
    assert client.get(COMPANIES).status_code == 200


def test_per_session_user(clock, limits, client, tenant_a, staff_member_for) -> None:
    limits(user="2/min")
    client.force_login(staff_member_for(tenant_a, MemberRole.ANALYST))

    assert [client.get(COMPANIES).status_code for _ in range(2)] == [200, 200]
    assert_throttled(client.get(COMPANIES), retry_after=60)


def test_anonymous_requests_per_client_address(clock, limits, db) -> None:
    limits(anonymous="2/min")
    client = APIClient()

    assert [client.get(COMPANIES).status_code for _ in range(2)] == [401, 401]
    assert_throttled(client.get(COMPANIES), retry_after=60)
    assert client.get(COMPANIES, REMOTE_ADDR="10.0.0.2").status_code == 401  # another address
    # The schema and docs are open to anyone, and limited the same way.
    assert_throttled(client.get("/api/schema/"), retry_after=60)


def test_a_forwarded_for_header_is_not_an_escape(clock, limits, db) -> None:
    limits(anonymous="2/min")
    client = APIClient()
    statuses = [
        client.get(COMPANIES, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in range(3)
    ]
    assert statuses == [401, 401, 429]


def test_behind_a_trusted_proxy_the_forwarded_address_counts(clock, limits, settings, db) -> None:
    limits(anonymous="1/min")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    client = APIClient()
    first = client.get(COMPANIES, HTTP_X_FORWARDED_FOR="203.0.113.1")
    second = client.get(COMPANIES, HTTP_X_FORWARDED_FOR="203.0.113.2")
    again = client.get(COMPANIES, HTTP_X_FORWARDED_FOR="198.51.100.9, 203.0.113.1")
    assert (first.status_code, second.status_code, again.status_code) == (401, 401, 429)


def test_wrong_keys_count_per_address_and_a_valid_key_still_works(
    clock, limits, tenant_a, api_client_for
) -> None:
    limits(anonymous="3/min")
    guesser = APIClient()
    guesser.credentials(HTTP_AUTHORIZATION="Bearer ats_nope_0123456789abcdef")
    revoked = api_client_for(tenant_a)
    services.api_key_revoke(api_key=revoked.api_key)

    assert guesser.get(COMPANIES).status_code == 401
    assert revoked.get(COMPANIES).status_code == 401
    assert APIClient().get(COMPANIES).status_code == 401  # no credentials: the same budget
    assert_throttled(guesser.get(COMPANIES), retry_after=60)
    assert api_client_for(tenant_a).get(COMPANIES).status_code == 200

    clock.shift(61)
    assert guesser.get(COMPANIES).status_code == 401


def test_an_empty_rate_turns_a_limit_off(clock, limits, db) -> None:
    limits()
    assert {APIClient().get(COMPANIES).status_code for _ in range(30)} == {401}


# Admin login: failed attempts per username and per client address.


@pytest.fixture
def staff(db):
    return UserFactory(username="ann", password="right-password")


def login(client, username: str, password: str, address: str = "127.0.0.1"):
    return client.post(
        "/admin/login/",
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


def test_admin_login_locks_a_username(clock, limits, client, staff) -> None:
    limits(admin_login_user="3/15min")
    for _ in range(2):
        assert "Please enter the correct username" in login(client, "ann", "wrong").text
    locked = MSG_LOCKED.format(minutes=15, plural="s")
    assert locked in login(client, "ann", "wrong").text

    clock.shift(60)
    response = login(client, "ANN", "right-password", address="10.9.9.9")
    assert MSG_LOCKED.format(minutes=14, plural="s") in response.text  # any case, any address

    clock.shift(14 * 60)
    assert login(client, "ann", "right-password").status_code == 302


def test_admin_login_locks_an_address(clock, limits, client, staff) -> None:
    limits(admin_login_address="3/15min")
    for name in ("bob", "eve", "ann"):
        login(client, name, "wrong")
    assert "Too many failed logins" in login(client, "ann", "right-password").text
    assert login(client, "ann", "right-password", address="10.0.0.7").status_code == 302


def test_a_successful_login_is_not_counted(clock, limits, client, staff) -> None:
    limits(admin_login_user="2/15min")
    for _ in range(3):
        assert login(client, "ann", "right-password").status_code == 302
        client.logout()
