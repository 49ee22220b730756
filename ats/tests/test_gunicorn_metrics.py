"""Metrics under a real gunicorn with two workers and the project's gunicorn.conf.py: every
worker's requests are counted whichever worker answers the scrape, a dead worker's counts
stay, its live gauge goes, gunicorn's private metrics directory is removed at exit, and with
LOG_FORMAT=json every line it writes is JSON."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ats.tests.prometheus import parse, value
from jobs.tests.utils import BASE_DIR, subprocess_env, wait_until

from .subprocess_env import free_port

TOKEN = "gunicorn-test-token"


def get(url: str, token: str = "") -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except OSError:
        return 0, ""


@pytest.fixture
def gunicorn(transactional_db: None, tmp_path: Path):
    port = free_port()
    env = subprocess_env(METRICS_TOKEN=TOKEN, TMPDIR=str(tmp_path), LOG_FORMAT="json")
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = (tmp_path / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "ats.wsgi", "--bind", f"127.0.0.1:{port}"),
            *("--workers", "2", "--threads", "2", "--config", str(BASE_DIR / "gunicorn.conf.py")),
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process, f"http://127.0.0.1:{port}", tmp_path
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def test_gunicorn_workers_share_their_metrics(gunicorn) -> None:
    process, base, tmp_path = gunicorn
    served = []

    def healthz() -> int:
        status, _ = get(f"{base}/healthz")
        served.append(status)
        return status

    wait_until(lambda: healthz() == 200, timeout=60, message="gunicorn to answer")
    [metrics_dir] = tmp_path.glob("ats-prometheus-*")  # gunicorn.conf.py's private directory
    # Both workers have loaded the app (each writes its in-progress gauge file at import).
    wait_until(
        lambda: len(list(metrics_dir.glob("gauge_livesum_*.db"))) == 2,
        message="both gunicorn workers to load the app",
    )
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(lambda _: healthz(), range(40))) == {200}
    ok = served.count(200)

    def scraped() -> dict:
        status, text = get(f"{base}/metrics", TOKEN)
        assert status == 200
        return parse(text)

    healthz_ok = {"route": "/healthz", "method": "GET", "status": "200"}
    for _ in range(4):  # whichever worker answers, it reports both workers' requests
        samples = scraped()
        assert value(samples, "ats_http_requests_total", **healthz_ok) == ok
        assert not any(name.startswith("process_") for name, _ in samples)

    # A worker dies: gunicorn's child_exit hook drops its live gauge, its counts stay.
    pids = [int(path.stem.rsplit("_", 1)[1]) for path in metrics_dir.glob("gauge_livesum_*.db")]
    os.kill(pids[0], signal.SIGKILL)
    wait_until(
        lambda: not (metrics_dir / f"gauge_livesum_{pids[0]}.db").exists(),
        message="child_exit to mark the dead worker",
    )
    wait_until(lambda: get(f"{base}/healthz")[0] == 200, message="the replacement worker")
    samples = wait_until(
        lambda: (s := scraped()) and value(s, "ats_http_requests_total", **healthz_ok) > ok and s,
        message="a scrape counting the dead worker's requests too",
    )
    assert value(samples, "ats_http_requests_total", **healthz_ok) == served.count(200) + 1
    assert value(samples, "ats_http_requests_in_progress") == 1  # the scrape itself

    assert get(f"{base}/api/v1/runs/")[0] == 401  # health probes log at DEBUG; this at INFO
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    assert not metrics_dir.exists()

    # LOG_FORMAT=json: every line is JSON, gunicorn's own included; no access log besides ours.
    lines = [json.loads(line) for line in (tmp_path / "gunicorn.log").read_text().splitlines()]
    messages = {(line["logger"], line["message"].split(" with pid")[0]) for line in lines}
    assert ("gunicorn.error", "Booting worker") in messages
    [request] = [line for line in lines if line["logger"] == "ats.request"]
    assert (request["route"], request["status"]) == ("/api/v1/runs/", 401)
    assert not any(line["logger"] == "gunicorn.access" for line in lines)
