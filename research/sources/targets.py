"""What a URL is about to be fetched from: everything checked without DNS, then the checked
addresses of its host (resolved once; the connection is pinned to them)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from .addresses import HostError, is_local_name, parse_host, refusal_reason
from .errors import BAD_SCHEME, BAD_URL, DNS_FAILED, REFUSED_ADDRESS, FetchFailed, FetchRefused


@dataclass(frozen=True)
class Target:
    url: str  # normalized
    scheme: str
    host: str  # canonical: IDNA name or IP literal
    port: int
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | None
    request_target: str  # path and query
    host_header: str


def parse_target(url: str, *, allow_private_networks: bool) -> Target:
    """Check everything about a URL that needs no DNS; raise FetchRefused otherwise."""
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        raise FetchRefused(BAD_URL, f"not a valid URL: {exc}", url=url) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        shown = f"{scheme}:" if scheme else "no scheme"
        raise FetchRefused(
            BAD_SCHEME, f"only http and https URLs can be fetched, not {shown}", url=url
        )
    netloc = parts.netloc
    if "@" in netloc:
        raise FetchRefused(BAD_URL, "URLs with a user name or password are not fetched", url=url)
    raw_host, _, raw_port = netloc.rpartition(":") if not netloc.endswith("]") else (netloc, "", "")
    if not raw_host:  # no ":" at all
        raw_host, raw_port = netloc, ""
    if not raw_host:
        raise FetchRefused(BAD_URL, "the URL has no host", url=url)
    default_port = 443 if scheme == "https" else 80
    if raw_port and not (raw_port.isascii() and raw_port.isdigit() and 0 < int(raw_port) < 65536):
        raise FetchRefused(BAD_URL, f"{raw_port!r} is not a valid port", url=url)
    port = int(raw_port) if raw_port else default_port
    try:
        host = parse_host(raw_host)
    except HostError as exc:
        raise FetchRefused(BAD_URL, str(exc), url=url) from None
    if not allow_private_networks:
        if host.address is not None and (reason := refusal_reason(host.address)):
            raise FetchRefused(REFUSED_ADDRESS, f"refused {host.name}: {reason}", url=url)
        if is_local_name(host.name):
            raise FetchRefused(
                REFUSED_ADDRESS, f"refused {host.name}: it always means this machine", url=url
            )
    authority = host.url_form if port == default_port else f"{host.url_form}:{port}"
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    query = quote(parts.query, safe="/?%:@!$&'()*+,;=-._~")
    request_target = f"{path}?{query}" if query else path
    return Target(
        url=f"{scheme}://{authority}{request_target}",
        scheme=scheme,
        host=host.name,
        port=port,
        address=host.address,
        request_target=request_target,
        host_header=authority,
    )


def validate_fetchable_url(url: str) -> str:
    """At add time, NO network/DNS: scheme http/https, a host, and a literal IP address (any
    notation) that is refused raises FetchRefused. Returns the normalized URL (IDNA host)."""
    return parse_target(url, allow_private_networks=False).url


def checked_addresses(
    target: Target, *, resolve: Callable[[str, int], Sequence[str]], allow_private_networks: bool
) -> list[str]:
    """Resolve once and check every address: one refused address refuses the host, so a DNS
    answer mixing public and private records cannot steer a later connection."""
    if target.address is not None:
        return [target.host]
    addresses = list(resolve(target.host, target.port))
    if not addresses:
        raise FetchFailed(DNS_FAILED, f"{target.host} has no address", retryable=False)
    for text in addresses:
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            raise FetchRefused(
                REFUSED_ADDRESS, f"{target.host} resolved to {text!r}, not an IP address"
            ) from None
        if not allow_private_networks and (reason := refusal_reason(address)):
            raise FetchRefused(
                REFUSED_ADDRESS, f"refused {target.host}: it resolves to {text} ({reason})"
            )
    return addresses
