import json

import pytest

from .subprocess_env import production_env, run_python


@pytest.mark.sqlite
def test_healthz_ok(client, db) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_503_when_database_unreachable(tmp_path) -> None:
    # A real unreachable server (nothing listens on port 1), not a mocked connection.
    env = production_env(
        tmp_path,
        DATABASE_URL="postgres://nobody@127.0.0.1:1/nothing?connect_timeout=2",
        SECURE_SSL_REDIRECT="false",
    )
    code = (
        "import django, json; django.setup()\n"
        "from django.test import Client\n"
        "r = Client(HTTP_HOST='ats.example.com').get('/healthz')\n"
        "print(json.dumps({'status': r.status_code, 'type': r['Content-Type'], "
        "'body': r.json()}))\n"
    )
    result = run_python(code, env)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 503
    assert answer["type"] == "application/problem+json"
    assert answer["body"]["code"] == "database_unavailable"
    assert answer["body"]["status"] == 503
    assert answer["body"]["database"] == "unavailable"
    # The driver's text (host, port, user) is for the log only.
    assert "127.0.0.1" not in result.stdout and "nobody" not in result.stdout
    assert answer["body"]["detail"] == "The database is unreachable."
