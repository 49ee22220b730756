"""Settings of the django-tasks-db benchmark: Django with that backend and nothing else."""

import environ

env = environ.Env()

SECRET_KEY = "bench-only-secret-key-not-for-production-use-0123456789"
DEBUG = False
USE_TZ = True
INSTALLED_APPS = ["django_tasks_db"]
DATABASES = {"default": {**env.db_url("DATABASE_URL"), "CONN_MAX_AGE": 60}}
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
