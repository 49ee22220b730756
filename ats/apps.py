from django.apps import AppConfig


class AtsConfig(AppConfig):
    name = "ats"
    verbose_name = "ATS"

    def ready(self) -> None:
        from . import lookups  # noqa: F401 - registers the `__any` lookup
