from django.apps import AppConfig


class ResearchConfig(AppConfig):
    name = "research"
    verbose_name = "Research"

    def ready(self) -> None:
        from ats.metrics import register_collector

        from .metrics import ResearchCollector

        register_collector("research", ResearchCollector())
