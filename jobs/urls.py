"""Non-API endpoints of the jobs app (joined at the site root in ats/urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("healthz/workers", views.healthz_workers, name="healthz-workers"),
]
