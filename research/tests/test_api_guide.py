"""docs/api.md runs as written: its shell blocks, in order, in one bash, against a live server
and a real worker, so that the automation client's guide cannot rot (issue 12 §5)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from jobs.tests.utils import WorkerRun, subprocess_env
from research.models import CompanyDecision, Prospect, ResearchRun, RunStatus

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "api.md"

pytestmark = pytest.mark.django_db(transaction=True)


def guide_script() -> str:
    blocks = re.findall(r"```sh\n(.*?)```", GUIDE.read_text(), flags=re.S)
    assert len(blocks) >= 5, "docs/api.md lost its examples"
    return "set -euo pipefail\n" + "\n".join(blocks)


def test_the_example_bundle_is_the_complete_fixture() -> None:
    fixture = ROOT / "research/tests/fixtures/bundles/valid/complete.json"
    example = ROOT / "docs/examples/bundle.json"
    assert json.loads(example.read_text()) == json.loads(fixture.read_text())


def test_the_api_guide_runs_as_written(live_server, tmp_path: Path) -> None:
    env = subprocess_env(
        API=f"{live_server.url}/api/v1",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        PYTHONPATH=str(ROOT),
    )
    # The guide reads docs/ and runs manage.py from the project directory; its own files
    # (bundle.json, prospects.csv) go to a scratch directory.
    (tmp_path / "docs").symlink_to(ROOT / "docs")
    (tmp_path / "manage.py").symlink_to(ROOT / "manage.py")
    worker = WorkerRun(["--concurrency", "2"], tmp_path / "worker.log", env)
    try:
        result = subprocess.run(
            ["bash", "-c", guide_script()],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        worker.send()
        worker_exit = worker.wait()
    finally:
        worker.stop()
    output = result.stdout
    assert result.returncode == 0, f"{output}\n{result.stderr}\nWorker:\n{worker.output()}"
    assert worker_exit == 0, f"the worker stopped with {worker_exit}:\n{worker.output()}"
    assert '"already_accepted": false' in output
    assert "400\nproposal_json.companies.0.source_sha256s.0" in output  # the broken bundle
    assert "\n409\n" in output  # approving a decided bundle again
    assert "run succeeded" in output and "sources run succeeded" in output
    assert (tmp_path / "prospects.csv").read_text().startswith("\ufeff")

    run = ResearchRun.objects.get(idempotency_key=None, objective__startswith="Warehouse")
    assert run.status == RunStatus.SUCCEEDED
    assert list(Prospect.objects.filter(run=run).values_list("name", flat=True)) == [
        "Nordlicht Robotics"
    ]  # KälteTech was excluded
    assert CompanyDecision.objects.get(bundle__run=run).action == "exclude"
    assert "Call notes: accept []" in output
    assert 'Teaser page: reject ["REJECT_THIN_CONTENT"]' in output
