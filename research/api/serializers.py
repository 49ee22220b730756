"""Output shapes of the research API (SPEC §9). Inputs are pydantic models in research.inputs."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from research.models import (
    Bundle,
    Prospect,
    ProspectEvidence,
    ProspectMetric,
    ResearchRun,
    RunEvent,
    RunSource,
    RunStep,
    Source,
)


class RoleRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class RunSerializer(serializers.ModelSerializer):
    role = RoleRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ResearchRun
        fields = [
            "id",
            "status",
            "objective",
            "constraints",
            "rank_spec",
            "role",
            "idempotency_key",
            "last_error",
            "counts",
            "created_by_actor",
            "created_at",
            "updated_at",
        ]


class RunWithJobSerializer(RunSerializer):
    """approve / retry answer: the run plus the job that now works on it."""

    job_id = serializers.SerializerMethodField()

    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "job_id"]

    def get_job_id(self, run: ResearchRun) -> int | None:
        return self.context.get("job_id")


class BundleSerializer(serializers.ModelSerializer):
    run_id = serializers.UUIDField(read_only=True)
    bundle_id = serializers.UUIDField(source="id", read_only=True)
    bundle_sha256 = serializers.CharField(source="sha256", read_only=True)
    already_accepted = serializers.SerializerMethodField()
    warnings = serializers.SerializerMethodField()
    warnings_count = serializers.SerializerMethodField()
    uploaded_by = serializers.CharField(source="uploaded_by_actor", read_only=True)
    reviewed_by = serializers.CharField(source="reviewed_by_actor", read_only=True)
    ingest_job_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Bundle
        fields = [
            "run_id",
            "bundle_id",
            "bundle_sha256",
            "status",
            "already_accepted",
            "counts",
            "warnings",
            "warnings_count",
            "uploaded_by",
            "created_at",
            "reviewed_by",
            "reviewed_at",
            "review_note",
            "ingest_job_id",
        ]

    def get_already_accepted(self, bundle: Bundle) -> bool:
        return bool(self.context.get("already_accepted", False))

    def get_warnings(self, bundle: Bundle) -> list[dict[str, Any]]:
        limit = self.context.get("warnings_limit", 200)
        return bundle.validation_warnings[:limit]

    def get_warnings_count(self, bundle: Bundle) -> int:
        return len(bundle.validation_warnings)


class RunEventSerializer(serializers.ModelSerializer):
    job_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = RunEvent
        fields = ["id", "event_type", "status", "message", "data", "actor", "job_id", "created_at"]


class RunStepSerializer(serializers.ModelSerializer):
    bundle_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = RunStep
        fields = [
            "id",
            "bundle_id",
            "step_key",
            "step_type",
            "order",
            "status",
            "inputs",
            "outputs",
            "provider_meta",
            "started_at",
            "finished_at",
            "output_sha256",
            "error",
        ]


class ValidationAnswerSerializer(serializers.Serializer):
    """`POST /runs/{id}/bundle/validate/` (SPEC §5)."""

    ok = serializers.BooleanField()
    errors = serializers.ListField(child=serializers.DictField())
    warnings = serializers.ListField(child=serializers.DictField())
    sha256 = serializers.CharField(allow_null=True)
    counts = serializers.DictField(allow_null=True)


class CompanyRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    domain = serializers.CharField()


class ProspectSerializer(serializers.ModelSerializer):
    run_id = serializers.UUIDField(read_only=True)
    company = CompanyRefSerializer(read_only=True)
    evidence_count = serializers.IntegerField(read_only=True)
    metrics_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Prospect
        fields = [
            "id",
            "run_id",
            "company",
            "name",
            "ai_rank",
            "ai_score",
            "status",
            "origin",
            "review_status",
            "manual_priority",
            "manual_notes",
            "is_pinned",
            "evidence_count",
            "metrics_count",
            "edited_by_actor",
            "edited_at",
            "created_at",
            "updated_at",
        ]


class ProspectDetailSerializer(ProspectSerializer):
    class Meta(ProspectSerializer.Meta):
        fields = [*ProspectSerializer.Meta.fields, "proposal"]


class SourceRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sha256 = serializers.CharField()
    title = serializers.CharField()
    url = serializers.CharField()


class ProspectEvidenceSerializer(serializers.ModelSerializer):
    source = SourceRefSerializer(read_only=True)

    class Meta:
        model = ProspectEvidence
        fields = ["id", "text", "verification", "evidence_type", "weight", "source", "created_at"]


class ProspectMetricSerializer(serializers.ModelSerializer):
    type = serializers.CharField(source="value_type")
    value = serializers.JSONField(read_only=True)
    source = SourceRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ProspectMetric
        fields = [
            "id",
            "key",
            "type",
            "value",
            "unit",
            "currency",
            "as_of_date",
            "confidence",
            "source",
            "created_at",
        ]


SOURCE_FIELDS = [
    "id",
    "kind",
    "title",
    "url",
    "mime_type",
    "sha256",
    "material_hash",
    "text_hash",
    "word_count",
    "stage",
    "state",
    "decision",
    "reason_codes",
    "error",
    "extractor_version",
    "retrieved_at",
    "created_at",
    "updated_at",
]


class SourceSerializer(serializers.ModelSerializer):
    """A source as the tenant knows it: its intrinsic decision (not relative to a run)."""

    sha256 = serializers.CharField(allow_null=True, read_only=True)

    class Meta:
        model = Source
        fields = SOURCE_FIELDS


class SourceRunSerializer(serializers.ModelSerializer):
    """The source's place in one run (the decision there may add FLAG_DUPLICATE_TEMPLATE)."""

    run_id = serializers.UUIDField(read_only=True)
    duplicate_of = serializers.IntegerField(source="duplicate_of_id", allow_null=True)

    class Meta:
        model = RunSource
        fields = [
            "run_id",
            "decision",
            "reason_codes",
            "duplicate_of",
            "processed_at",
            "result",
            "error",
            "created_at",
        ]


class SourceDetailSerializer(SourceSerializer):
    """`GET /sources/{id}/`: with the extracted text (whatever the decision), the fetch
    record, what extraction and classification found, and the source's runs."""

    runs = serializers.SerializerMethodField()

    class Meta(SourceSerializer.Meta):
        fields = [
            *SOURCE_FIELDS,
            "text",
            "fetch",
            "extraction",
            "classification",
            "meta",
            "runs",
        ]

    def get_runs(self, source: Source) -> list[dict[str, Any]]:
        links = RunSource.objects.filter(source=source).order_by("created_at", "id")
        return SourceRunSerializer(links, many=True).data


class RunSourceSerializer(serializers.ModelSerializer):
    """A source in a run's list: the source's fields with the run's decision and reason
    codes (`source_decision` is the source's own, without the run's near-duplicates)."""

    id = serializers.IntegerField(source="source_id", read_only=True)
    kind = serializers.CharField(source="source.kind", read_only=True)
    title = serializers.CharField(source="source.title", read_only=True)
    url = serializers.CharField(source="source.url", read_only=True)
    mime_type = serializers.CharField(source="source.mime_type", read_only=True)
    sha256 = serializers.CharField(source="source.sha256", allow_null=True, read_only=True)
    material_hash = serializers.CharField(source="source.material_hash", read_only=True)
    text_hash = serializers.CharField(source="source.text_hash", read_only=True)
    word_count = serializers.IntegerField(source="source.word_count", allow_null=True)
    stage = serializers.CharField(source="source.stage", read_only=True)
    state = serializers.CharField(source="source.state", read_only=True)
    source_decision = serializers.CharField(source="source.decision", read_only=True)
    source_reason_codes = serializers.JSONField(source="source.reason_codes", read_only=True)
    duplicate_of = serializers.IntegerField(source="duplicate_of_id", allow_null=True)
    source_error = serializers.CharField(source="source.error", read_only=True)
    fetch = serializers.JSONField(source="source.fetch", read_only=True)
    added_at = serializers.DateTimeField(source="created_at", read_only=True)
    created = serializers.SerializerMethodField()
    linked = serializers.SerializerMethodField()

    class Meta:
        model = RunSource
        fields = [
            "id",
            "kind",
            "title",
            "url",
            "mime_type",
            "sha256",
            "material_hash",
            "text_hash",
            "word_count",
            "stage",
            "state",
            "decision",
            "reason_codes",
            "source_decision",
            "source_reason_codes",
            "duplicate_of",
            "processed_at",
            "result",
            "error",
            "source_error",
            "fetch",
            "added_at",
            "created",
            "linked",
        ]

    def get_created(self, link: RunSource) -> bool | None:
        """Answers to POST only: a new source (False: the tenant knew it already)."""
        return self.context.get("created", {}).get(link.source_id)

    def get_linked(self, link: RunSource) -> bool | None:
        """Answers to POST only: newly added to this run (False: it was there already)."""
        return self.context.get("linked", {}).get(link.source_id)
