"""WSGI entry point (gunicorn ats.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

from ats.wsgi_body import ChunkedBodyMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ats.settings")

application = ChunkedBodyMiddleware(get_wsgi_application())
