"""ASGI entry point."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ats.settings")

application = get_asgi_application()

from ats.tenant_scope import NO_TENANT, set_process_default  # noqa: E402 - needs apps ready

# Outside a request (which starts with no tenant by itself), web code sees no tenant's rows.
set_process_default(NO_TENANT)
