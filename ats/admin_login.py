"""Failed admin logins are limited per username and per client address (`ats.ratelimit`).

A small form-level limiter on the same shared cache as the API's rate limits, rather than
django-axes: it needs no tables, middleware or authentication backend of its own, and is
configured like the other limits (RATE_LIMIT_ADMIN_LOGIN_USER / _ADDRESS). While a username
or an address is locked, the form refuses before checking the password, so guessing on is
useless; a correct password afterwards logs in as usual.
"""

from __future__ import annotations

import math

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from ats import ratelimit

MSG_LOCKED = "Too many failed logins. Try again in {minutes} minute{plural}."


class RateLimitedLoginForm(AdminAuthenticationForm):
    def clean(self) -> dict:
        username = (self.cleaned_data.get("username") or "").strip().casefold()
        address = ratelimit.client_address(self.request)
        by_user = ratelimit.FailureLimit(ratelimit.ADMIN_LOGIN_USER)
        by_address = ratelimit.FailureLimit(ratelimit.ADMIN_LOGIN_ADDRESS)
        waits = [by_user.blocked_for(username), by_address.blocked_for(address)]
        if any(waits):
            raise self._locked(max(wait for wait in waits if wait))
        try:
            return super().clean()
        except ValidationError as exc:
            if exc.code == "invalid_login":
                waits = [by_user.record(username), by_address.record(address)]
                if any(waits):
                    raise self._locked(max(wait for wait in waits if wait)) from exc
            raise

    def _locked(self, seconds: float) -> ValidationError:
        minutes = math.ceil(seconds / 60)
        message = MSG_LOCKED.format(minutes=minutes, plural="" if minutes == 1 else "s")
        return ValidationError(message, code="too_many_attempts")
