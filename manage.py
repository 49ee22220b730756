#!/usr/bin/env python
"""Django's command-line utility for administrative tasks. A command that cannot start (bad
settings, a database it cannot reach or that is not migrated) fails with one line saying
what to do (`ats.entry`); `--traceback` shows the traceback instead."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ats.settings")
    from ats.entry import run_manage

    sys.exit(run_manage(sys.argv))


if __name__ == "__main__":
    main()
