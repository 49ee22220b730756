"""Rate limits, counted in the shared cache so that every gunicorn worker (and host) agrees.

The cache is the database cache by default (`CACHE_URL`, table created by a migration). Rates
come from settings (`RATE_LIMITS`, read from the environment) at each use, written as in
`ats.rates`: "600/min", "5/15min", "1000/day"; an empty rate turns a limit off.

- API (DRF throttles, `DEFAULT_THROTTLE_CLASSES`): per API key, per session user, and per
  client address for requests without valid credentials: anonymous ones and those with a
  wrong or revoked key (`FailureLimit`, called by the authentication) count together.
- Admin login (`ats.forms.RateLimitedLoginForm`): failed attempts per username and per client
  address.

The client address is REMOTE_ADDR, or with `NUM_PROXIES` > 0 the address that many proxies
in from the right of X-Forwarded-For (never a client-chosen header on its own).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from ats.models import ApiKey
from ats.rates import parse_rate

API_KEY = "api_key"
USER = "user"
ANONYMOUS = "anonymous"
ADMIN_LOGIN_USER = "admin_login_user"
ADMIN_LOGIN_ADDRESS = "admin_login_address"


def client_address(request: Any) -> str:
    return BaseThrottle().get_ident(request) or "unknown"


class _ScopedRate(SimpleRateThrottle):
    """A throttle whose rate is `settings.RATE_LIMITS[scope]`, read when it is used."""

    def get_rate(self) -> str | None:
        return settings.RATE_LIMITS.get(self.scope) or None

    def parse_rate(self, rate: str | None) -> tuple[int | None, int | None]:
        return parse_rate(rate)

    def key_for(self, ident: str) -> str:
        digest = hashlib.sha256(ident.encode("utf-8", "backslashreplace")).hexdigest()[:32]
        return self.cache_format % {"scope": self.scope, "ident": digest}


class ApiKeyRateThrottle(_ScopedRate):
    scope = API_KEY

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if isinstance(request.auth, ApiKey):
            return self.key_for(str(request.auth.pk))
        return None


class UserRateThrottle(_ScopedRate):
    """Staff using the API with their browser session."""

    scope = USER

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if request.auth is None and request.user.is_authenticated:
            return self.key_for(str(request.user.pk))
        return None


class AnonymousRateThrottle(_ScopedRate):
    """Requests without credentials, per client address (shared with `FailureLimit`)."""

    scope = ANONYMOUS

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if request.user.is_authenticated:
            return None
        return self.key_for(client_address(request))


class FailureLimit(_ScopedRate):
    """Failed attempts (a wrong API key, a wrong password) per identity.

    `record` counts one failure; both it and `blocked_for` answer how many seconds the
    identity must wait before its next attempt is looked at, or None below the limit.
    """

    def __init__(self, scope: str) -> None:
        self.scope = scope
        super().__init__()

    def blocked_for(self, ident: str) -> float | None:
        if self.rate is None:
            return None
        self._load(ident)
        return self._wait()

    def record(self, ident: str) -> float | None:
        if self.rate is None:
            return None
        self._load(ident)
        self.throttle_success()  # adds this attempt to the stored history
        return self._wait()

    def _load(self, ident: str) -> None:
        self.key = self.key_for(ident)
        self.now = self.timer()
        self.history = [at for at in self.cache.get(self.key, []) if at > self.now - self.duration]

    def _wait(self) -> float | None:
        if len(self.history) < self.num_requests:
            return None
        return max(1.0, self.duration - (self.now - self.history[-1]))
