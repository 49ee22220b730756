"""Gunicorn settings of ATS Research. Gunicorn reads this file by itself when started from
this directory (`gunicorn ats.wsgi ...`, the Dockerfile, `make run`); options on the command
line still win.

Metrics: gunicorn runs several worker processes, and a scrape of /metrics reaches only one of
them. prometheus-client's multiprocess mode has each process write its metrics to files in
`PROMETHEUS_MULTIPROC_DIR`, and whichever worker answers /metrics adds up all the files.

- Unset (the default): this file makes a fresh private directory for this gunicorn and removes
  it when gunicorn exits; the metrics start from zero at each start, as Prometheus expects.
- Set: that directory is used as it is, e.g. to share it with `manage.py runworker`
  processes on the same host. It must be empty when they start (a previous run's files would
  be counted again), and it must be local to the host.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

# Set here, at import, not in a hook: the variable must be in the environment before
# prometheus-client is first imported, which happens in the master itself with --preload.
# The private directory's path is remembered in the environment too, because gunicorn reads
# this file again on SIGHUP.
_PRIVATE_DIR_VARIABLE = "ATS_GUNICORN_PRIVATE_METRICS_DIR"
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ[_PRIVATE_DIR_VARIABLE] = tempfile.mkdtemp(prefix="ats-prometheus-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.environ[_PRIVATE_DIR_VARIABLE]
else:
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)


# Gunicorn (25.1+) opens a control socket for `gunicornc` at one path per user by default
# ($XDG_RUNTIME_DIR/gunicorn.ctl or ~/.gunicorn/gunicorn.ctl): two servers on one machine
# (`make run` in two checkouts, a test server) would take it from each other, and `gunicornc`
# could stop the wrong one. It is off unless GUNICORN_CONTROL_SOCKET names a path of its own.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET") or "gunicorn.ctl"
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")


# LOG_FORMAT=json: gunicorn's own lines (workers booting, timing out, crashing) are JSON too.
# Its access log stays off: the app writes one richer line per request (ats.middleware).
if os.environ.get("LOG_FORMAT") == "json":
    from ats.logging import JSON_RENAMES

    logconfig_dict = {
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
            "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
        },
        "formatters": {
            "generic": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": ["levelname", "name", "message"],
                "rename_fields": JSON_RENAMES,
                "timestamp": "time",
            }
        },
    }


def child_exit(server: Any, worker: Any) -> None:
    """A worker died or was replaced: its share of the live gauges (requests in progress)
    goes; its counters and histograms stay, so totals never go backwards."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    private_dir = os.environ.get(_PRIVATE_DIR_VARIABLE)
    if private_dir and private_dir == os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        shutil.rmtree(private_dir, ignore_errors=True)
