"""API key authentication: `Authorization: Bearer <key>` or `Authorization: Api-Key <key>`."""

from __future__ import annotations

from datetime import timedelta
from typing import NoReturn

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from ats import ratelimit
from ats.models import ApiKey
from ats.tenant_scope import enter_scope, system_scope

MSG_INVALID_KEY = "Invalid API key."
MSG_REVOKED_KEY = "This API key has been revoked."
# Recording every request's use would turn each read into a write; minute precision is enough.
LAST_USED_PRECISION = timedelta(minutes=1)


class ApiKeyUser(AnonymousUser):
    """The request's user when it authenticated with an API key: no Django user, but
    authenticated, so that DRF's IsAuthenticated holds."""

    def __init__(self, api_key: ApiKey) -> None:
        self.api_key = api_key

    @property
    def is_authenticated(self) -> bool:  # type: ignore[override]
        return True

    def __str__(self) -> str:
        return f"api-key:{self.api_key.prefix}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keywords = ("bearer", "api-key")

    def authenticate(self, request: Request) -> tuple[ApiKeyUser, ApiKey] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _, raw_key = header.partition(" ")
        if scheme.lower() not in self.keywords:
            return None
        raw_key = raw_key.strip()
        prefix = ApiKey.split_prefix(raw_key)
        with system_scope():  # the key says which tenant: find it among all tenants' keys
            api_key = (
                ApiKey.objects.select_related("tenant").filter(prefix=prefix).first()
                if prefix
                else None
            )
        if api_key is None or not api_key.matches(raw_key):
            self.fail(request, MSG_INVALID_KEY)
        if api_key.is_revoked:
            self.fail(request, MSG_REVOKED_KEY)
        enter_scope([api_key.tenant_id])
        now = timezone.now()
        if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_PRECISION:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        return ApiKeyUser(api_key), api_key

    def fail(self, request: Request, message: str) -> NoReturn:
        """401; or 429 once the client address has sent too many requests without valid
        credentials (they count with its anonymous ones)."""
        wait = ratelimit.FailureLimit(ratelimit.ANONYMOUS).record(ratelimit.client_address(request))
        if wait is not None:
            raise exceptions.Throttled(wait)
        raise exceptions.AuthenticationFailed(message)

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (with this challenge) rather than 403 when no key was sent.
        return 'Bearer realm="api"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Describes API key authentication in the OpenAPI schema."""

    target_class = ApiKeyAuthentication
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key: `Authorization: Bearer <key>` (or `Api-Key <key>`).",
        }
