"""The SSRF-safe fetcher of SPEC §8.

HTTP client: urllib3 (well kept, already installed through our other dependencies), used through
its public API in a way that pins the checked address: each hop resolves the host once, checks
every address it got (`addresses.refusal_reason`), then opens a connection pool whose host *is*
the checked IP literal, so urllib3 never resolves the name again (DNS rebinding cannot redirect
the connection). The Host header, TLS SNI (`server_hostname`) and certificate verification
(`assert_hostname`) still use the URL's hostname. Redirects and retries are done here, not by
urllib3, so every redirect target is parsed, resolved and checked like the first URL.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import NewConnectionError, SSLError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from .errors import (
    BAD_SCHEME,
    BAD_URL,
    CONNECTION_FAILED,
    DEADLINE_EXCEEDED,
    DNS_FAILED,
    HTTP_STATUS,
    REFUSED_ADDRESS,
    TIMEOUT,
    TLS_FAILED,
    TOO_MANY_REDIRECTS,
    FetchError,
    FetchFailed,
    FetchRefused,
)
from .sniff import SUPPORTED_CONTENT_TYPES, sniff_content_type
from .targets import Target, checked_addresses, parse_target, validate_fetchable_url

__all__ = [
    "BAD_SCHEME",
    "BAD_URL",
    "CONNECTION_FAILED",
    "DEADLINE_EXCEEDED",
    "DNS_FAILED",
    "HTTP_STATUS",
    "REFUSED_ADDRESS",
    "SUPPORTED_CONTENT_TYPES",
    "TIMEOUT",
    "TLS_FAILED",
    "TOO_MANY_REDIRECTS",
    "FetchError",
    "FetchFailed",
    "FetchPolicy",
    "FetchRefused",
    "FetchResult",
    "fetch_url",
    "validate_fetchable_url",
]

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CHUNK_SIZE = 64 * 1024
# Declared types that say nothing about the content: the body is sniffed instead.
GENERIC_CONTENT_TYPES = frozenset(
    {"", "application/octet-stream", "binary/octet-stream", "application/x-download",
     "application/force-download", "application/xml", "text/xml", "application/unknown"}
)  # fmt: skip

Resolver = Callable[[str, int], Sequence[str]]


def default_resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host`, in its order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        temporary = exc.errno == socket.EAI_AGAIN
        raise FetchFailed(
            DNS_FAILED, f"{host} could not be resolved ({exc.strerror})", retryable=temporary
        ) from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class FetchPolicy:
    allow_private_networks: bool = False  # only tests turn this on (a loopback fixture server)
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    deadline: float = 30.0  # overall, including redirects and in-process retries
    max_bytes: int = 2_000_000  # enforced while reading; the body is cut there
    max_redirects: int = 5
    max_retries: int = 2  # in-process retries on retryable failures
    retry_after_cap: float = 10.0  # Retry-After honoured up to this many seconds
    retry_backoff: float = 0.5  # first wait when the server gives no Retry-After; doubles
    user_agent: str = "ATS-Research/1.0 (+source fetcher)"
    # (host, port) -> addresses. Injectable so tests can simulate DNS answers and rebinding.
    resolve: Resolver = field(default=default_resolve, repr=False, compare=False)

    @classmethod
    def from_settings(cls) -> FetchPolicy:
        from django.conf import settings

        defaults = cls()
        return cls(
            allow_private_networks=settings.FETCH_ALLOW_PRIVATE_NETWORKS,
            connect_timeout=getattr(settings, "FETCH_CONNECT_TIMEOUT", defaults.connect_timeout),
            read_timeout=getattr(settings, "FETCH_READ_TIMEOUT", defaults.read_timeout),
            deadline=getattr(settings, "FETCH_DEADLINE", defaults.deadline),
            max_bytes=getattr(settings, "FETCH_MAX_BYTES", defaults.max_bytes),
        )


@dataclass(frozen=True)
class FetchResult:
    url: str
    final_url: str
    status: int
    content_type: str  # normalized mime, lowercase ("" when the server sent none)
    supported: bool  # content_type in SUPPORTED_CONTENT_TYPES (else body is b"")
    body: bytes
    truncated: bool  # True when cut at max_bytes
    address: str  # the IP actually connected to (the checked one)
    redirects: list[dict[str, Any]]
    attempts: int
    elapsed_ms: int
    started_at: datetime
    size: int
    material_hash: str  # SHA-256 hex of body
    charset: str | None = None  # from the Content-Type header, for decoding text
    declared_content_type: str = ""  # as the server sent it (sniffing may replace a generic one)

    def to_record(self) -> dict[str, Any]:
        record = asdict(self)
        del record["body"]
        record["started_at"] = self.started_at.isoformat()
        return record


class _Clock:
    def __init__(self, deadline: float) -> None:
        self.start = time.monotonic()
        self.deadline = deadline

    def remaining(self) -> float:
        return self.deadline - (time.monotonic() - self.start)

    def timeout(self, limit: float) -> float:
        remaining = self.remaining()
        if remaining <= 0:
            raise FetchFailed(
                DEADLINE_EXCEEDED, "the overall fetch deadline passed", retryable=True
            )
        return min(limit, remaining)


def _pool(target: Target, address: str, policy: FetchPolicy) -> urllib3.HTTPConnectionPool:
    """A pool whose host is the checked IP literal: urllib3 connects there without resolving."""
    if target.scheme == "https":
        tls_name = None if target.address is not None else target.host
        return urllib3.HTTPSConnectionPool(
            address, target.port, maxsize=1, retries=False, cert_reqs="CERT_REQUIRED",
            server_hostname=tls_name, assert_hostname=tls_name,
        )  # fmt: skip
    return urllib3.HTTPConnectionPool(address, target.port, maxsize=1, retries=False)


def _mime(header: str | None) -> tuple[str, str | None]:
    if not header:
        return "", None
    mime, *params = header.split(";")
    charset = None
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip("\"'").lower() or None
    return mime.strip().lower(), charset


def _retry_after(value: str | None, cap: float) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return max(0.0, min(seconds, cap))


@dataclass
class _Redirect:
    status: int
    location: str


@dataclass
class _Response:
    status: int
    content_type: str
    declared_content_type: str
    charset: str | None
    body: bytes
    truncated: bool
    address: str


def _read_capped(
    response: urllib3.BaseHTTPResponse, policy: FetchPolicy, clock: _Clock
) -> tuple[bytes, bool]:
    """Read at most max_bytes (decoded), never the whole of an endless body. A timer shuts the
    socket down at the deadline, so a server dripping one byte at a time cannot outlast it."""
    deadline_passed = threading.Event()

    def stop_reading() -> None:
        deadline_passed.set()
        with contextlib.suppress(ValueError, RuntimeError, OSError):
            response.shutdown()

    timer = threading.Timer(max(clock.remaining(), 0.0), stop_reading)
    timer.daemon = True
    timer.start()
    chunks: list[bytes] = []
    size = 0
    try:
        while size <= policy.max_bytes:
            chunk = response.read1(CHUNK_SIZE, decode_content=True)
            if deadline_passed.is_set():
                break
            if not chunk:
                return b"".join(chunks), False
            chunks.append(chunk)
            size += len(chunk)
    except (Urllib3Error, OSError):
        if not deadline_passed.is_set():
            raise
    finally:
        timer.cancel()
    if deadline_passed.is_set():
        raise FetchFailed(DEADLINE_EXCEEDED, "the overall fetch deadline passed", retryable=True)
    return b"".join(chunks)[: policy.max_bytes], True


def _request(
    target: Target, address: str, policy: FetchPolicy, clock: _Clock
) -> _Response | _Redirect:
    """One HTTP exchange with the pinned address."""
    pool = _pool(target, address, policy)
    headers = {
        "Host": target.host_header,
        "User-Agent": policy.user_agent,
        "Accept": "text/html,application/xhtml+xml,application/pdf,text/plain;q=0.9,*/*;q=0.1",
        "Accept-Encoding": "gzip, deflate",
    }
    try:
        response = pool.urlopen(
            "GET", target.request_target, headers=headers, retries=False, redirect=False,
            preload_content=False, assert_same_host=False,
            timeout=urllib3.Timeout(
                connect=clock.timeout(policy.connect_timeout),
                read=clock.timeout(policy.read_timeout),
            ),
        )  # fmt: skip
        try:
            return _handle_response(response, target, address, policy, clock)
        finally:
            response.release_conn()
    except FetchError as exc:
        exc.url = exc.url or target.url
        raise
    except SSLError as exc:
        raise FetchFailed(
            TLS_FAILED, f"TLS failed: {exc}", retryable=False, url=target.url
        ) from None
    except NewConnectionError as exc:  # a subclass of the timeout error, but not a timeout
        detail = f"connection failed: {exc}"
        raise FetchFailed(CONNECTION_FAILED, detail, retryable=True, url=target.url) from None
    except (Urllib3Timeout, TimeoutError):
        raise FetchFailed(
            TIMEOUT, "the server did not answer in time", retryable=True, url=target.url
        ) from None
    except (Urllib3Error, OSError) as exc:
        raise FetchFailed(
            CONNECTION_FAILED, f"connection failed: {exc}", retryable=True, url=target.url
        ) from None
    finally:
        pool.close()


def _handle_response(
    response: urllib3.BaseHTTPResponse,
    target: Target,
    address: str,
    policy: FetchPolicy,
    clock: _Clock,
) -> _Response | _Redirect:
    status = response.status
    if status in REDIRECT_STATUSES:
        location = response.headers.get("Location")
        if not location:
            raise FetchFailed(
                HTTP_STATUS, f"HTTP {status} without a Location", retryable=False, status=status
            )
        return _Redirect(status, location)
    if status == 429 or status >= 500:
        retry_after = _retry_after(response.headers.get("Retry-After"), policy.retry_after_cap)
        raise FetchFailed(
            HTTP_STATUS,
            f"the server answered HTTP {status}",
            retryable=True,
            status=status,
            retry_after=retry_after,
        )
    if not 200 <= status < 300:
        raise FetchFailed(
            HTTP_STATUS, f"the server answered HTTP {status}", retryable=False, status=status
        )
    declared, charset = _mime(response.headers.get("Content-Type"))
    content_type = declared
    if declared in SUPPORTED_CONTENT_TYPES:
        body, truncated = _read_capped(response, policy, clock)
    elif declared in GENERIC_CONTENT_TYPES:
        body, truncated = _read_capped(response, policy, clock)
        content_type = sniff_content_type(body) or declared
        if content_type not in SUPPORTED_CONTENT_TYPES:
            body, truncated = b"", False
    else:  # unsupported: never download it
        body, truncated = b"", False
    return _Response(status, content_type, declared, charset, body, truncated, address)


def _fetch_once(
    url: str, policy: FetchPolicy, clock: _Clock
) -> tuple[Target, _Response, list[dict[str, Any]]]:
    target = parse_target(url, allow_private_networks=policy.allow_private_networks)
    redirects: list[dict[str, Any]] = []
    while True:
        addresses = checked_addresses(
            target, resolve=policy.resolve, allow_private_networks=policy.allow_private_networks
        )
        outcome: _Response | _Redirect | None = None
        for index, address in enumerate(addresses):  # every one was checked above
            try:
                outcome = _request(target, address, policy, clock)
                break
            except FetchFailed as exc:
                if exc.code != CONNECTION_FAILED or index == len(addresses) - 1:
                    raise
        if isinstance(outcome, _Response):
            return target, outcome, redirects
        assert outcome is not None
        redirects.append(
            {"url": target.url, "status": outcome.status, "location": outcome.location}
        )
        if len(redirects) > policy.max_redirects:
            raise FetchRefused(
                TOO_MANY_REDIRECTS, f"more than {policy.max_redirects} redirects", url=url
            )
        target = parse_target(
            urljoin(target.url, outcome.location),
            allow_private_networks=policy.allow_private_networks,
        )


def fetch_url(
    url: str, *, policy: FetchPolicy, sleep: Callable[[float], None] = time.sleep
) -> FetchResult:
    """Raises FetchRefused / FetchFailed. `sleep` is injectable so tests never really wait."""
    started_at = datetime.now(UTC)
    clock = _Clock(policy.deadline)
    attempts = 0
    while True:
        attempts += 1
        try:
            target, response, redirects = _fetch_once(url, policy, clock)
            break
        except FetchError as exc:
            exc.attempts = attempts
            exc.url = exc.url or url
            if not exc.retryable or attempts > policy.max_retries:
                raise
            retry_after = getattr(exc, "retry_after", None)
            wait = (
                retry_after
                if retry_after is not None
                else policy.retry_backoff * 2 ** (attempts - 1)
            )
            if wait >= clock.remaining():
                raise
            sleep(wait)
    return FetchResult(
        url=url,
        final_url=target.url,
        status=response.status,
        content_type=response.content_type,
        supported=response.content_type in SUPPORTED_CONTENT_TYPES,
        body=response.body,
        truncated=response.truncated,
        address=response.address,
        redirects=redirects,
        attempts=attempts,
        elapsed_ms=round((time.monotonic() - clock.start) * 1000),
        started_at=started_at,
        size=len(response.body),
        material_hash=hashlib.sha256(response.body).hexdigest(),
        charset=response.charset,
        declared_content_type=response.declared_content_type,
    )
