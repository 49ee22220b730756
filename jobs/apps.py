from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Jobs"

    def ready(self) -> None:
        # Every app's handlers.py registers its job types, in web and worker processes
        # alike, so that enqueue() can refuse unknown types and workers can run them.
        autodiscover_modules("handlers")

        from ats.metrics import register_collector

        from .metrics import QueueCollector, record_attempts
        from .signals import attempts_finished

        register_collector("jobs", QueueCollector())
        # The worker's finished attempts, once per batch, become the attempt metrics.
        attempts_finished.connect(record_attempts, dispatch_uid="jobs.metrics.record_attempts")
