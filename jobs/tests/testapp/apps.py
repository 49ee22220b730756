from django.apps import AppConfig


class TestAppConfig(AppConfig):
    """Handlers and models that the jobs tests run in real worker processes."""

    name = "jobs.tests.testapp"
    label = "jobs_testapp"
    default_auto_field = "django.db.models.BigAutoField"
