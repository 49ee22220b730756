"""Writes of the research app. The admin, the API, jobs and commands call these."""
