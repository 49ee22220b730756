from __future__ import annotations

from rest_framework import mixins

from ats.api.viewsets import TenantScopedViewSet
from jobs.models import Job

from .serializers import JobSerializer


class JobViewSet(mixins.RetrieveModelMixin, TenantScopedViewSet):
    """A job of the caller's tenant (system jobs have no tenant and are never shown)."""

    queryset = Job.objects.all()
    serializer_class = JobSerializer
