"""`bench/ingest.py` end to end on a small bundle, in its own process and throwaway database,
so that the benchmark cannot rot unnoticed (it once stopped starting at all)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from django.db import connection

from jobs.tests.utils import child_database_url

ROOT = Path(__file__).resolve().parents[2]


def bench_database_url() -> str:
    """The test server, with a database name of its own: the benchmark creates and drops
    `test_<name>`, which must not be the test run's database."""
    name = connection.settings_dict["NAME"].removeprefix("test_")
    return child_database_url(f"{name}_benchcheck")


def test_the_benchmark_measures_ingestion_and_its_floor() -> None:
    done = subprocess.run(
        [sys.executable, "bench/ingest.py", "--companies", "30", "--sources", "6", "--repeat", "1"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": bench_database_url()},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    # The floor copies exactly what ingestion wrote: 10 known companies, so 20 new ones.
    assert re.search(
        r"rows: research_source 6, research_runsource 6, ats_company 20, ats_companyalias 0, "
        r"research_prospect 30, research_prospectevidence 90, research_prospectmetric 90",
        out,
    ), out
    assert re.search(r"\| ratio ingestion / floor .* \| \d\.\d{3} ", out), out
    assert re.search(r"\| phase validate, s \(0 queries\) \|", out), out
    assert "goals:" in out
