"""The safe fetcher (SPEC §8) against a local fixture server; no database, no real network."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import pytest
import urllib3.util.connection

from research.sources import fetch
from research.sources.fetch import FetchFailed, FetchPolicy, FetchRefused, fetch_url

from .sources_server import FixtureServer, serve_fixtures

PUBLIC_IP = "93.184.216.34"  # a public address the fake internet routes to the fixture server


@pytest.fixture
def fixture_server() -> Iterator[FixtureServer]:
    with serve_fixtures() as server:
        yield server


@pytest.fixture
def policy() -> FetchPolicy:
    return FetchPolicy(allow_private_networks=True, connect_timeout=2, read_timeout=2, deadline=10)


@dataclass
class Sleeps:
    waits: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@dataclass
class FakeInternet:
    """Every connection the fetcher opens, by address; PUBLIC_IP is routed to `route_to`."""

    attempts: list[tuple[str, int]] = field(default_factory=list)
    route_to: int | None = None


@pytest.fixture
def internet(monkeypatch: pytest.MonkeyPatch) -> FakeInternet:
    """Replaces urllib3's socket opener: records each connection, routes PUBLIC_IP to the
    fixture server, lets loopback through (so a bug really reaches a listener) and refuses
    every other address, so no test ever sends a packet off this machine."""
    fake = FakeInternet()
    real = urllib3.util.connection.create_connection

    def create_connection(
        address: tuple[str, int], *args: object, **kwargs: object
    ) -> socket.socket:
        host, port = address
        fake.attempts.append((host, port))
        if host == PUBLIC_IP and fake.route_to is not None:
            return real(("127.0.0.1", fake.route_to), *args, **kwargs)
        if host in ("127.0.0.1", "::1"):
            return real(address, *args, **kwargs)
        raise ConnectionRefusedError(f"test network: {host} is unreachable")

    monkeypatch.setattr(urllib3.util.connection, "create_connection", create_connection)
    return fake


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A listening loopback socket that must never see a connection."""
    sock = socket.create_server(("127.0.0.1", 0))
    sock.setblocking(False)
    yield sock
    sock.close()


def assert_no_connection(sock: socket.socket) -> None:
    with pytest.raises(BlockingIOError):
        sock.accept()


# -- fetching ---------------------------------------------------------------------------------


def test_fetches_a_page_and_records_it(fixture_server: FixtureServer, policy: FetchPolicy) -> None:
    result = fetch_url(fixture_server.url("/article"), policy=policy)

    assert result.status == 200
    assert result.content_type == "text/html"
    assert result.charset == "utf-8"
    assert result.supported and not result.truncated
    assert result.address == "127.0.0.1"
    assert result.final_url == fixture_server.url("/article")
    assert b"Northwind Robotics" in result.body
    assert result.size == len(result.body)
    assert len(result.material_hash) == 64
    assert result.attempts == 1 and result.redirects == []
    record = json.loads(json.dumps(result.to_record()))
    assert "body" not in record
    assert record["status"] == 200 and record["material_hash"] == result.material_hash


def test_generic_content_type_is_sniffed(
    fixture_server: FixtureServer, policy: FetchPolicy
) -> None:
    result = fetch_url(fixture_server.url("/download"), policy=policy)

    assert result.content_type == "application/pdf"
    assert result.declared_content_type == "application/octet-stream"
    assert result.supported and result.body.startswith(b"%PDF-")


def test_unsupported_type_is_not_downloaded(
    fixture_server: FixtureServer, policy: FetchPolicy
) -> None:
    result = fetch_url(fixture_server.url("/image.png"), policy=policy)

    assert result.content_type == "image/png"
    assert not result.supported
    assert result.body == b"" and result.size == 0


def test_404_fails_without_retry(fixture_server: FixtureServer, policy: FetchPolicy) -> None:
    sleeps = Sleeps()
    with pytest.raises(FetchFailed) as caught:
        fetch_url(fixture_server.url("/missing"), policy=policy, sleep=sleeps)

    assert caught.value.status == 404
    assert caught.value.code == fetch.HTTP_STATUS
    assert not caught.value.retryable
    assert caught.value.attempts == 1
    assert fixture_server.hits["/missing"] == 1
    assert sleeps.waits == []


def test_503_then_200_is_retried_after_retry_after(
    fixture_server: FixtureServer, policy: FetchPolicy
) -> None:
    sleeps = Sleeps()
    result = fetch_url(fixture_server.url("/flaky"), policy=policy, sleep=sleeps)

    assert result.status == 200
    assert result.attempts == 2
    assert sleeps.waits == [7.0]
    assert fixture_server.hits["/flaky"] == 2


def test_retry_after_is_capped_and_retries_are_bounded(
    fixture_server: FixtureServer, policy: FetchPolicy
) -> None:
    sleeps = Sleeps()
    with pytest.raises(FetchFailed) as caught:
        fetch_url(
            fixture_server.url("/busy"),
            policy=replace(policy, max_retries=2, retry_after_cap=4),
            sleep=sleeps,
        )

    assert caught.value.status == 503
    assert caught.value.retryable  # the job queue may try again later
    assert caught.value.retry_after == 4
    assert caught.value.attempts == 3
    assert sleeps.waits == [4, 4]
    assert fixture_server.hits["/busy"] == 3


def test_slow_endpoint_times_out(fixture_server: FixtureServer, policy: FetchPolicy) -> None:
    sleeps = Sleeps()
    with pytest.raises(FetchFailed) as caught:
        fetch_url(
            fixture_server.url("/slow"),
            policy=replace(policy, read_timeout=0.2, max_retries=1),
            sleep=sleeps,
        )

    assert caught.value.code == fetch.TIMEOUT
    assert caught.value.retryable
    assert caught.value.attempts == 2
    assert sleeps.waits == [policy.retry_backoff]


def test_overall_deadline_stops_a_dripping_body(
    fixture_server: FixtureServer, policy: FetchPolicy
) -> None:
    with pytest.raises(FetchFailed) as caught:
        fetch_url(
            fixture_server.url("/drip"),
            policy=replace(policy, read_timeout=5, deadline=0.5, max_retries=0),
        )

    assert caught.value.code in (fetch.DEADLINE_EXCEEDED, fetch.TIMEOUT)


def test_endless_body_is_cut_at_the_cap(fixture_server: FixtureServer, policy: FetchPolicy) -> None:
    result = fetch_url(fixture_server.url("/endless"), policy=replace(policy, max_bytes=100_000))

    assert result.truncated
    assert result.size == 100_000
    assert fixture_server.endless_done.wait(timeout=10)
    # The client hung up: the server could only fill the socket buffers, nowhere near the end.
    assert fixture_server.endless_sent < 50_000_000


def test_five_redirects_are_followed(fixture_server: FixtureServer, policy: FetchPolicy) -> None:
    result = fetch_url(fixture_server.url("/redirect/5"), policy=policy)

    assert result.final_url == fixture_server.url("/article")
    assert [hop["status"] for hop in result.redirects] == [302] * 5
    assert result.redirects[0]["url"] == fixture_server.url("/redirect/5")


def test_a_chain_of_six_redirects_is_refused(
    fixture_server: FixtureServer, policy: FetchPolicy
) -> None:
    with pytest.raises(FetchRefused) as caught:
        fetch_url(fixture_server.url("/redirect/6"), policy=policy)

    assert caught.value.code == fetch.TOO_MANY_REDIRECTS
    assert not caught.value.retryable
    assert fixture_server.hits["/article"] == 0
    assert fixture_server.hits["/redirect/6"] == 1  # not retried


def test_redirect_to_another_scheme_is_refused(
    fixture_server: FixtureServer, policy: FetchPolicy
) -> None:
    with pytest.raises(FetchRefused) as caught:
        fetch_url(fixture_server.url("/to-file"), policy=policy)

    assert caught.value.code == fetch.BAD_SCHEME


def test_redirect_to_loopback_is_refused_when_private_networks_are_not_allowed(
    fixture_server: FixtureServer, internet: FakeInternet
) -> None:
    internet.route_to = fixture_server.port
    policy = FetchPolicy(resolve=lambda host, port: [PUBLIC_IP])
    url = f"http://public.example:{fixture_server.port}/to-loopback"

    with pytest.raises(FetchRefused) as caught:
        fetch_url(url, policy=policy)

    assert caught.value.code == fetch.REFUSED_ADDRESS
    assert internet.attempts == [(PUBLIC_IP, fixture_server.port)]
    assert fixture_server.hits["/to-loopback"] == 1
    assert fixture_server.hits["/article"] == 0


def test_host_header_and_pinned_address_use_the_checked_address(
    fixture_server: FixtureServer, internet: FakeInternet
) -> None:
    internet.route_to = fixture_server.port
    policy = FetchPolicy(resolve=lambda host, port: [PUBLIC_IP])

    result = fetch_url(f"http://public.example:{fixture_server.port}/article", policy=policy)

    assert result.address == PUBLIC_IP
    assert result.final_url == f"http://public.example:{fixture_server.port}/article"
    assert internet.attempts == [(PUBLIC_IP, fixture_server.port)]


def test_connection_refused_is_retryable(policy: FetchPolicy, listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there any more
    sleeps = Sleeps()
    with pytest.raises(FetchFailed) as caught:
        fetch_url(f"http://127.0.0.1:{port}/", policy=replace(policy, max_retries=1), sleep=sleeps)

    assert caught.value.code == fetch.CONNECTION_FAILED
    assert caught.value.retryable and caught.value.attempts == 2


# -- SSRF: refused before any connection ------------------------------------------------------

LITERAL_SSRF_URLS = [
    "http://127.0.0.1{port}/",
    "http://2130706433{port}/",
    "http://0x7f.1{port}/",
    "http://017700000001{port}/",
    "http://0177.0.0.01{port}/",
    "http://127.1{port}/",
    "http://[::1]{port}/",
    "http://[::ffff:127.0.0.1]{port}/",
    "http://[::ffff:7f00:1]{port}/",
    "http://[64:ff9b::127.0.0.1]{port}/",
    "http://[2002:7f00:1::1]{port}/",
    "http://[2001:db8::5efe:7f00:1]{port}/",
    "http://169.254.169.254{port}/latest/meta-data/",
    "http://100.64.0.1{port}/",
    "http://10.1.2.3{port}/",
    "http://192.168.1.1{port}/",
    "http://198.18.0.1{port}/",
    "http://192.0.2.1{port}/",
    "http://224.0.0.1{port}/",
    "http://240.0.0.1{port}/",
    "http://0.0.0.0{port}/",
    "http://0{port}/",
    "http://[::]{port}/",
    "http://[fe80::1]{port}/",
    "http://[fd00::1]{port}/",
    "http://%31%32%37.0.0.1{port}/",
    "http://127%2E0%2E0%2E1{port}/",
    "http://127\u30020\u30020\u30021{port}/",  # ideographic full stops
    "http://127\uff0e0\uff0e0\uff0e1{port}/",  # fullwidth full stops
    "http://\uff11\uff12\uff17.0.0.1{port}/",  # fullwidth digits
    "http://localhost{port}/",
    "http://api.localhost{port}/",
]


@pytest.mark.parametrize("template", LITERAL_SSRF_URLS)
@pytest.mark.parametrize("with_port", [True, False], ids=["listener-port", "default-port"])
def test_refused_addresses_make_no_connection_and_no_dns_lookup(
    template: str, with_port: bool, internet: FakeInternet, listener: socket.socket
) -> None:
    port = listener.getsockname()[1]
    url = template.format(port=f":{port}" if with_port else "")
    lookups: list[str] = []
    policy = FetchPolicy(resolve=lambda host, port: lookups.append(host) or [PUBLIC_IP])

    with pytest.raises(FetchRefused) as caught:
        fetch_url(url, policy=policy)
    with pytest.raises(FetchRefused):
        fetch.validate_fetchable_url(url)

    assert caught.value.code == fetch.REFUSED_ADDRESS
    assert caught.value.attempts == 1  # never retried
    assert lookups == []
    assert internet.attempts == []
    assert_no_connection(listener)


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("file:///etc/passwd", fetch.BAD_SCHEME),
        ("gopher://127.0.0.1:6379/_FLUSHALL", fetch.BAD_SCHEME),
        ("ftp://example.com/file", fetch.BAD_SCHEME),
        ("javascript:alert(1)", fetch.BAD_SCHEME),
        ("example.com/page", fetch.BAD_SCHEME),
        ("http:///path", fetch.BAD_URL),
        ("http://user:secret@example.com/", fetch.BAD_URL),
        ("http://256.0.0.1/", fetch.BAD_URL),
        ("http://1.2.3.4.5/", fetch.BAD_URL),
        ("http://exa mple.com/", fetch.BAD_URL),
        ("http://example.com:99999/", fetch.BAD_URL),
        ("http://[::1/", fetch.BAD_URL),
    ],
)
def test_unfetchable_urls_are_refused(url: str, code: str, internet: FakeInternet) -> None:
    with pytest.raises(FetchRefused) as caught:
        fetch_url(url, policy=FetchPolicy(resolve=lambda host, port: [PUBLIC_IP]))

    assert caught.value.code == code
    assert internet.attempts == []


@pytest.mark.parametrize(
    "answer",
    [["10.0.0.5"], ["127.0.0.1"], [PUBLIC_IP, "192.168.0.10"], ["::1"], ["::ffff:169.254.169.254"]],
)
def test_hostname_resolving_to_a_refused_address_is_refused(
    answer: list[str], internet: FakeInternet, listener: socket.socket
) -> None:
    port = listener.getsockname()[1]
    policy = FetchPolicy(resolve=lambda host, port: answer)

    with pytest.raises(FetchRefused) as caught:
        fetch_url(f"http://intranet.example:{port}/", policy=policy)

    assert caught.value.code == fetch.REFUSED_ADDRESS
    assert "intranet.example" in caught.value.detail
    assert internet.attempts == []
    assert_no_connection(listener)


def test_dns_rebinding_connects_only_to_the_checked_address(
    fixture_server: FixtureServer, internet: FakeInternet, listener: socket.socket
) -> None:
    """The name answers a public address first and loopback afterwards: the fetcher resolves
    once, and the connection goes to the first (checked) address, never to the second."""
    internet.route_to = fixture_server.port
    answers = iter([[PUBLIC_IP], ["127.0.0.1"], ["127.0.0.1"]])
    lookups: list[str] = []

    def rebinding_resolve(host: str, port: int) -> list[str]:
        lookups.append(host)
        return next(answers)

    port = fixture_server.port
    result = fetch_url(
        f"http://rebind.example:{port}/article", policy=FetchPolicy(resolve=rebinding_resolve)
    )

    assert result.address == PUBLIC_IP
    assert lookups == ["rebind.example"]
    assert internet.attempts == [(PUBLIC_IP, port)]
    assert_no_connection(listener)


def test_validate_fetchable_url_normalizes_without_dns(internet: FakeInternet) -> None:
    assert fetch.validate_fetchable_url("HTTP://B\u00fccher.Example./a b?q=\u00fc#top") == (
        "http://xn--bcher-kva.example/a%20b?q=%C3%BC"
    )
    assert fetch.validate_fetchable_url("https://example.com:443") == "https://example.com/"
    assert fetch.validate_fetchable_url("http://0x8.0x8.0x8.0x8:8080") == "http://8.8.8.8:8080/"
    assert internet.attempts == []


def test_policy_from_settings(settings: pytest.FixtureRequest) -> None:
    settings.FETCH_ALLOW_PRIVATE_NETWORKS = True
    assert FetchPolicy.from_settings().allow_private_networks is True
    settings.FETCH_ALLOW_PRIVATE_NETWORKS = False
    assert FetchPolicy.from_settings().allow_private_networks is False
