"""`manage.py runworker` with this process's clock moved by CLOCK_OFFSET seconds (time.time,
datetime.now, timezone.now: time-machine), as on a host whose clock is wrong."""

import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import time_machine

sys.path[0] = str(Path(__file__).resolve().parents[2])  # the project, not jobs/tests
offset = timedelta(seconds=float(os.environ["CLOCK_OFFSET"]))
time_machine.travel(datetime.now(UTC) + offset, tick=True).start()

from django.core.management import execute_from_command_line  # noqa: E402

execute_from_command_line(["manage.py", "runworker", *sys.argv[1:]])
