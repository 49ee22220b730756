"""`/api/v1/`: one router per app, joined here."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from .views import CompanyViewSet

router = SimpleRouter()
router.register("companies", CompanyViewSet, basename="company")

urlpatterns = [
    path("", include(router.urls)),
    path("", include("research.api.urls")),
    path("", include("jobs.api.urls")),
]
