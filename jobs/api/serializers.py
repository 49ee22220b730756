from __future__ import annotations

from rest_framework import serializers

from jobs.models import Job


class JobSerializer(serializers.ModelSerializer):
    """A job as API clients see it (SPEC §9). Tracebacks stay in the admin."""

    last_error = serializers.CharField(read_only=True)

    class Meta:
        model = Job
        fields = [
            "id",
            "job_type",
            "queue",
            "status",
            "priority",
            "attempts",
            "max_attempts",
            "run_after",
            "cancel_requested",
            "last_error",
            "result",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields
