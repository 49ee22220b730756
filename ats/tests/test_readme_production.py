"""The README's "Running with PostgreSQL" steps, run as written on a fresh database (issue 11 §7).

The commands are read from README.md, not copied here: if the README changes, this test runs
the new lines. Only the database name and the port are replaced by free ones (each replacement
must find its text in the README), and the environment adds what a test needs around them:
the test server's address for `createdb`, a temporary STATIC_ROOT, two gunicorn workers and a
small anonymous rate limit (to see that both workers count in one shared cache).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from .subprocess_env import BASE_DIR, child_database_url, free_port, inherited_env

README = BASE_DIR / "README.md"
HEADING = "### Running with PostgreSQL"
README_ROLE = "CREATE ROLE ats LOGIN"
README_CREATEDB = "createdb --owner ats ats"
README_DATABASE_URL = "postgres://ats:change-me@127.0.0.1:5432/ats"
README_BIND = "127.0.0.1:8000"
LONG_RUNNING = ("gunicorn", "runworker")
ANONYMOUS_BUDGET = 8
STARTUP_DEADLINE = 60.0


def readme_commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index(HEADING) :]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None, f"no sh block under {HEADING!r} in README.md"
    return [
        line.strip()
        for line in block.group(1).splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def server_host() -> str:
    db = settings.DATABASES["default"]
    return f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"


def base_env(tmp_path: Path) -> dict[str, str]:
    db = settings.DATABASES["default"]
    env = inherited_env(
        without={"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "SECRET_KEY", "DEBUG"},
        prefixes=("SECURE_", "RATE_LIMIT_", "PG"),
    )
    return env | {
        "PGHOST": db["HOST"] or "127.0.0.1",
        "PGPORT": str(db["PORT"] or 5432),
        "PGUSER": db["USER"],
        **({"PGPASSWORD": db["PASSWORD"]} if db.get("PASSWORD") else {}),
        "STATIC_ROOT": str(tmp_path / "static"),
        "WEB_CONCURRENCY": "2",
        "RATE_LIMIT_ANONYMOUS": f"{ANONYMOUS_BUDGET}/min",
    }


class Deployment:
    def __init__(self, tmp_path: Path) -> None:
        self.database = f"ats_readme_{uuid.uuid4().hex[:10]}"
        self.role = self.database  # a role of its own, as the README creates
        self.port = free_port()
        self.env = base_env(tmp_path)
        self.processes: list[subprocess.Popen] = []
        self.replacements = {
            README_ROLE: f"CREATE ROLE {self.role} LOGIN",
            README_CREATEDB: f"createdb --owner {self.role} {self.database}",
            README_DATABASE_URL: (
                f"postgres://{self.role}:change-me@{server_host()}/{self.database}"
            ),
            README_BIND: f"127.0.0.1:{self.port}",
        }

    def run_readme(self) -> None:
        commands = readme_commands()
        block = "\n".join(commands)
        for old in self.replacements:
            assert old in block, f"README's steps no longer contain {old!r}: update this test"
        for line in commands:
            command = line
            for old, new in self.replacements.items():
                command = command.replace(old, new)
            if command.startswith("export "):
                self.env = self._exported(command)
            elif any(word in command for word in LONG_RUNNING):
                self.processes.append(
                    subprocess.Popen(
                        ["bash", "-c", f"exec {command}"],
                        cwd=BASE_DIR,
                        env=self.env,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                        start_new_session=True,
                    )
                )
            else:
                result = subprocess.run(
                    ["bash", "-c", command],
                    cwd=BASE_DIR,
                    env=self.env,
                    capture_output=True,
                    text=True,
                    timeout=300,
                )
                assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"

    def _exported(self, command: str) -> dict[str, str]:
        result = subprocess.run(
            ["bash", "-c", f"{command}\nenv -0"], env=self.env, capture_output=True, timeout=30
        )
        assert result.returncode == 0, result.stderr
        pairs = (item.split("=", 1) for item in result.stdout.decode().split("\0") if "=" in item)
        return dict(pairs)

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [".venv/bin/python", "manage.py", *args],
            cwd=BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def request(
        self, method: str, path: str, body: object = None, headers: dict | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {}, encode_chunked=True)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def wait_until(self, path: str, ready: object) -> None:
        """Poll `path` until `ready(status, body)`; fail after STARTUP_DEADLINE seconds."""
        deadline = time.monotonic() + STARTUP_DEADLINE
        last: object = None
        while time.monotonic() < deadline:
            assert all(p.poll() is None for p in self.processes), "a server process exited"
            try:
                status, _, body = self.request("GET", path)
                if ready(status, body):  # type: ignore[operator]
                    return
                last = (status, body[:200])
            except OSError as exc:
                last = exc
            time.sleep(0.2)  # polling a readiness condition, bounded by the deadline
        pytest.fail(f"{path} not ready after {STARTUP_DEADLINE} s: {last}")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        with psycopg.connect(child_database_url("postgres"), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            connection.execute(f'DROP ROLE IF EXISTS "{self.role}"')


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    deployment = Deployment(tmp_path)
    try:
        deployment.run_readme()
        deployment.wait_until("/healthz", lambda status, body: status == 200)
        yield deployment
    finally:
        deployment.stop()


def assets_of(html: str) -> list[str]:
    """What the page loads: scripts and linked stylesheets and icons (not its links)."""
    found = re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"', html)
    return [url.replace("&amp;", "&") for url in found]


def test_the_readme_production_path_serves_the_admin_and_the_docs(deployment) -> None:
    status, headers, body = deployment.request("GET", "/admin/login/")
    assert status == 200, body[:500]
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    login_assets = assets_of(body.decode())
    assert any(url.endswith(".css") for url in login_assets)
    docs_status, docs_headers, docs = deployment.request("GET", "/api/docs/")
    assert docs_status == 200, docs[:500]
    assert "Content-Security-Policy" in docs_headers
    docs_assets = assets_of(docs.decode())
    assert any(url.endswith(".js") for url in docs_assets)
    for url in login_assets + docs_assets:
        assert url.startswith("/"), f"{url}: an asset from another host"
        asset_status, _, _ = deployment.request("GET", url)
        assert asset_status == 200, url

    # The application's role is held to row-level security: neither a superuser nor exempt.
    checked = deployment.manage(
        "shell",
        "-c",
        "from django.db import connection; c = connection.cursor(); "
        "c.execute('SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user'); "
        "print(c.fetchone())",
    )
    assert checked.strip().splitlines()[-1] == "(False, False)"

    # The worker started by the README registers itself.
    deployment.wait_until(
        "/healthz/workers", lambda status, body: json.loads(body).get("live_workers", 0) >= 1
    )

    # A chunked body is read (it was silently dropped: "objective: Field required").
    deployment.manage("create_tenant", "Readme Search", "--slug", "readme")
    key = deployment.manage("create_api_key", "--tenant", "readme", "--role", "analyst")
    auth = {"Authorization": f"Bearer {key.strip().splitlines()[-1]}"}
    chunks = iter([b'{"objective": ', b'"Sent in chunks"}'])
    headers = {**auth, "Content-Type": "application/json"}
    status, _, body = deployment.request("POST", "/api/v1/runs/", chunks, headers)
    assert status == 201, body
    assert json.loads(body)["objective"] == "Sent in chunks"

    # Two gunicorn workers count anonymous requests in one shared cache: the docs page and
    # its start-up script were two of them.
    statuses = [deployment.request("GET", "/api/v1/companies/")[0] for _ in range(10)]
    remaining = ANONYMOUS_BUDGET - 2
    assert statuses == [401] * remaining + [429] * (10 - remaining)
