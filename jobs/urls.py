"""Non-API endpoints of the jobs app (joined at the site root in ats/urls.py)."""

urlpatterns: list = []
