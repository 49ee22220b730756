"""Errors of the fetcher, with stable codes the pipeline stores and the API shows."""

from __future__ import annotations

from typing import Any

# Error codes (FetchError.code).
BAD_SCHEME = "bad_scheme"
BAD_URL = "bad_url"
REFUSED_ADDRESS = "refused_address"
DNS_FAILED = "dns_failed"
TOO_MANY_REDIRECTS = "too_many_redirects"
TIMEOUT = "timeout"
DEADLINE_EXCEEDED = "deadline_exceeded"
CONNECTION_FAILED = "connection_failed"
TLS_FAILED = "tls_failed"
HTTP_STATUS = "http_status"


class FetchError(Exception):
    """A URL that could not be fetched. `code` is stable (see the constants above)."""

    retryable = False

    def __init__(self, code: str, detail: str, *, url: str = "", attempts: int = 0) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.url = url
        self.attempts = attempts

    def to_record(self) -> dict[str, Any]:
        return {
            "error": self.code,
            "detail": self.detail,
            "url": self.url,
            "retryable": self.retryable,
            "attempts": self.attempts,
        }


class FetchRefused(FetchError):
    """Never retried: a scheme, host or address the policy refuses, or too many redirects."""


class FetchFailed(FetchError):
    """A network or HTTP failure: retryable for timeouts, connection errors, 5xx and 429."""

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        retryable: bool,
        status: int | None = None,
        retry_after: float | None = None,
        url: str = "",
    ) -> None:
        super().__init__(code, detail, url=url)
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after

    def to_record(self) -> dict[str, Any]:
        return {**super().to_record(), "status": self.status, "retry_after": self.retry_after}
