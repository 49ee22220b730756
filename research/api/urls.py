"""This app's `/api/v1/` endpoints (joined in ats/api/urls.py)."""

urlpatterns: list = []
