from django.apps import AppConfig


class AtsConfig(AppConfig):
    name = "ats"
    verbose_name = "ATS"

    def ready(self) -> None:
        from django.contrib import admin

        from . import lookups  # noqa: F401 - registers the `__any` lookup
        from .admin_login import RateLimitedLoginForm
        from .api import schema  # noqa: F401 - registers the OpenAPI extension of pydantic
        from .tenant_scope import ALL_TENANTS, set_process_default

        admin.site.login_form = RateLimitedLoginForm

        # Commands, workers and scripts act for the system (row-level security sees every
        # tenant; jobs narrow it to theirs). The web entry points (wsgi.py, asgi.py) set
        # NO_TENANT instead, and every request starts there whatever the default.
        set_process_default(ALL_TENANTS)
