"""The jobs app's own job types."""

from .backend import run_django_task
from .conf import DJANGO_TASK_JOB_TYPE
from .registry import handler

# Django Tasks run once: an exception fails the task, as with Django's own backends.
handler(DJANGO_TASK_JOB_TYPE, max_attempts=1)(run_django_task)
