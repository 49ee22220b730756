"""WSGI entry point (gunicorn ats.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

from ats.wsgi_body import ChunkedBodyMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ats.settings")

application = ChunkedBodyMiddleware(get_wsgi_application())

from ats.tenant_scope import NO_TENANT, set_process_default  # noqa: E402 - needs apps ready

# Outside a request (which starts with no tenant by itself), web code sees no tenant's rows.
set_process_default(NO_TENANT)
