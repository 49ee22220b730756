from django.apps import AppConfig


class AtsConfig(AppConfig):
    name = "ats"
    verbose_name = "ATS"

    def ready(self) -> None:
        from django.contrib import admin

        from . import lookups  # noqa: F401 - registers the `__any` lookup
        from .admin_login import RateLimitedLoginForm
        from .api import schema  # noqa: F401 - registers the OpenAPI extension of pydantic

        admin.site.login_form = RateLimitedLoginForm
