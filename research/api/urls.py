"""This app's `/api/v1/` endpoints (joined in ats/api/urls.py)."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from .prospects import ProspectViewSet, SourceViewSet
from .views import RunViewSet

router = SimpleRouter()
router.register("runs", RunViewSet, basename="run")
router.register("prospects", ProspectViewSet, basename="prospect")
router.register("sources", SourceViewSet, basename="source")

urlpatterns = [path("", include(router.urls))]
