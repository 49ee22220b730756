"""Settings of our queue's benchmark workers: the production settings plus the bench app."""

import os

os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-use-0123456789")

from ats.settings import *  # noqa: F403
from ats.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench.queue_app"]
