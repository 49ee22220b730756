"""This app's `/api/v1/` endpoints (joined in ats/api/urls.py)."""

from rest_framework.routers import SimpleRouter

from .views import JobViewSet

router = SimpleRouter()
router.register("jobs", JobViewSet, basename="job")

urlpatterns = router.urls
