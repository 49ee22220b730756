from django.apps import AppConfig


class BenchQueueConfig(AppConfig):
    name = "bench.queue_app"
    label = "bench_queue"
    default_auto_field = "django.db.models.BigAutoField"
