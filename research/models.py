"""Research runs, their bundles, steps, sources and events.

Statuses change only through `research.services.status` (conditional updates + an event).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.text import Truncator

from ats.models import TenantQuerySet, TenantScopedModel, tenant_key
from ats.request_context import MAX_REQUEST_ID_LENGTH


class RunStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    NEEDS_REVIEW = "needs_review", "Needs review"
    INGESTING = "ingesting", "Ingesting"
    PROCESSING = "processing", "Processing"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"


class ResearchRun(TenantScopedModel):
    """One piece of research for a purpose, optionally for a role (mandate)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    role = models.ForeignKey(
        "ats.Role", null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    objective = models.TextField()
    constraints = models.JSONField(default=dict, blank=True)
    rank_spec = models.JSONField(default=dict, blank=True)
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.DRAFT)
    # The status a failed run returns to on retry ("back to the step that failed").
    failed_from = models.CharField(max_length=20, choices=RunStatus.choices, blank=True)
    last_error = models.TextField(blank=True)
    # Denormalized figures for lists: the current bundle's counts, then ingestion's.
    counts = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by_actor = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "research run"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="run_unique_idempotency_key",
            ),
            models.CheckConstraint(
                condition=Q(status__in=RunStatus.values), name="run_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "status", "-created_at"])]

    def __str__(self) -> str:
        # Titles and breadcrumbs: cut with an ellipsis, never silently mid-word.
        return Truncator(self.objective).chars(80) or str(self.id)


class BundleStatus(models.TextChoices):
    PENDING_REVIEW = "pending_review", "Pending review"
    APPROVED = "approved", "Approved"
    INGESTED = "ingested", "Ingested"
    FAILED = "failed", "Failed"
    REJECTED = "rejected", "Rejected"
    SUPERSEDED = "superseded", "Superseded"


class BundleQuerySet(TenantQuerySet):
    def pending(self) -> BundleQuerySet:
        return self.filter(status=BundleStatus.PENDING_REVIEW)


class Bundle(TenantScopedModel):
    """One upload of an agent's work for a run (format `run_bundle_v1`, SPEC §5).

    Identity is the SHA-256 of the canonical JSON: the same content uploaded again is the
    same bundle. At most one bundle per run awaits review; a newer upload supersedes it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    run = models.ForeignKey(ResearchRun, on_delete=models.CASCADE, related_name="bundles")
    sha256 = models.CharField("SHA-256", max_length=64)
    payload = models.JSONField()
    status = models.CharField(
        max_length=20, choices=BundleStatus.choices, default=BundleStatus.PENDING_REVIEW
    )
    counts = models.JSONField(default=dict, blank=True)
    validation_warnings = models.JSONField(default=list, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_by_actor = models.CharField(max_length=200, blank=True)
    # The upload's X-Request-ID: the ingestion job carries it, so one id follows the bundle.
    request_id = models.CharField(
        max_length=MAX_REQUEST_ID_LENGTH, blank=True, default="", db_default=""
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_by_actor = models.CharField(max_length=200, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)
    # No database constraint: pruning finished jobs must not touch bundles.
    ingest_job = models.ForeignKey(
        "jobs.Job",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = BundleQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["run", "sha256"], name="bundle_unique_sha_per_run"),
            models.UniqueConstraint(
                fields=["run"],
                condition=Q(status="pending_review"),
                name="bundle_one_pending_per_run",
            ),
            models.CheckConstraint(
                condition=Q(status__in=BundleStatus.values), name="bundle_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Bundle {self.sha256[:12]} ({self.get_status_display()})"


class DecisionAction(models.TextChoices):
    INCLUDE = "include", "Include"
    EXCLUDE = "exclude", "Exclude"
    SAME_AS = "same_as", "Same as an existing company"


class CompanyDecision(TenantScopedModel):
    """A reviewer's decision about one proposed company of a bundle, stored with the
    approval: exclude it, take it as an existing company (`same_as`), or include it
    (recorded when the reviewer confirmed a probable duplicate as a new company).
    Companies without a decision are included as matching decides."""

    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="decisions")
    # The index in the bundle's `proposal_json.companies`.
    company_index = models.PositiveIntegerField()
    proposed_name = models.CharField(max_length=500)
    action = models.CharField(max_length=10, choices=DecisionAction.choices)
    company = models.ForeignKey(
        "ats.Company", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_by_actor = models.CharField(max_length=200)
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["bundle", "company_index"]
        constraints = [
            models.UniqueConstraint(
                fields=["bundle", "company_index"], name="decision_unique_company_per_bundle"
            ),
            models.CheckConstraint(
                condition=Q(action__in=DecisionAction.values), name="decision_action_valid"
            ),
            # A company is named exactly when the decision is "same as".
            models.CheckConstraint(
                condition=Q(action="same_as", company__isnull=False)
                | (~Q(action="same_as") & Q(company__isnull=True)),
                name="decision_same_as_names_company",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.proposed_name}: {self.get_action_display()}"


class StepType(models.TextChoices):
    SEARCH = "search"
    FETCH = "fetch"
    EXTRACT = "extract"
    VALIDATE = "validate"
    COMPOSE = "compose"
    FINALIZE = "finalize"
    # The source pipeline's own stages (bundles use the six above).
    CLASSIFY = "classify"
    PROCESS = "process"


class StepStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"


class RunStep(TenantScopedModel):
    """A step of the research: from a bundle's `steps`, or from the source pipeline."""

    run = models.ForeignKey(ResearchRun, on_delete=models.CASCADE, related_name="steps")
    bundle = models.ForeignKey(
        Bundle, null=True, blank=True, on_delete=models.CASCADE, related_name="steps"
    )
    step_key = models.CharField(max_length=200)
    step_type = models.CharField(max_length=20, choices=StepType.choices)
    order = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=20, choices=StepStatus.choices)
    inputs = models.JSONField(default=dict, blank=True)
    outputs = models.JSONField(default=dict, blank=True)
    provider_meta = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    output_sha256 = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "bundle", "step_key"], name="step_unique_key_per_bundle"
            ),
            # The source pipeline's steps (no bundle): one row per stage and run.
            models.UniqueConstraint(
                fields=["run", "step_key"],
                condition=Q(bundle__isnull=True),
                name="step_unique_pipeline_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.step_key} ({self.status})"


class SourceKind(models.TextChoices):
    BUNDLE = "bundle", "Research bundle"
    LIST = "list", "Company list"
    TEXT = "text", "Pasted text"
    URL = "url", "URL"
    FILE = "file", "Uploaded file"


# Kinds that analysts add and the pipeline fetches, extracts and classifies.
PIPELINE_KINDS = (SourceKind.TEXT, SourceKind.URL, SourceKind.FILE)


class SourceStage(models.TextChoices):
    """The last pipeline stage a source completed ("" : not in the pipeline)."""

    QUEUED = "queued", "Queued"
    FETCHED = "fetched", "Fetched"
    EXTRACTED = "extracted", "Extracted"
    CLASSIFIED = "classified", "Classified"


class SourceState(models.TextChoices):
    """Where the source stands within its stage: waiting for, doing or failing the next."""

    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class SourceDecision(models.TextChoices):
    ACCEPT = "accept", "Accept"
    FLAG = "flag", "Flag"
    REJECT = "reject", "Reject"


class SourceMaterial(TenantScopedModel):
    """The raw bytes of a source as received (upload, fetch, pasted text), kept so that
    sources can be extracted again without fetching. Content-addressed per tenant."""

    sha256 = models.CharField("SHA-256", max_length=64)
    content_type = models.CharField(max_length=200)
    size = models.PositiveIntegerField()
    body = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "sha256"], name="material_unique_sha"),
        ]

    def __str__(self) -> str:
        return f"{self.content_type}, {self.size:,} bytes ({self.sha256[:12]})"


class SourceQuerySet(TenantQuerySet):
    def in_pipeline(self) -> SourceQuerySet:
        """Sources that the pipeline fetches, extracts and classifies."""
        return self.exclude(stage="")


class Source(TenantScopedModel):
    """A document the research read.

    `sha256` addresses the source's material per tenant: the SHA-256 of the text of bundle,
    list and pasted sources, of the bytes of uploaded files. A URL source has none (what a
    URL serves changes over time); it is known by its URL until fetched. Pipeline sources
    (`stage` not empty) carry their stage, state, intrinsic decision and hashes; decisions
    relative to a run (near-duplicates among its sources) live on `RunSource`.
    """

    tenant = tenant_key(db_index=False)  # the unique (tenant, sha256) leads
    kind = models.CharField(max_length=10, choices=SourceKind.choices, default=SourceKind.BUNDLE)
    sha256 = models.CharField("SHA-256", max_length=64, null=True, blank=True)
    title = models.CharField(max_length=1000, blank=True)
    url = models.URLField(max_length=2000, blank=True)
    mime_type = models.CharField(max_length=200, blank=True)
    text = models.TextField()
    retrieved_at = models.DateTimeField(null=True, blank=True)
    meta = models.JSONField(default=dict, blank=True)
    runs = models.ManyToManyField(
        ResearchRun, through="RunSource", through_fields=("source", "run"), related_name="sources"
    )
    stage = models.CharField(max_length=20, choices=SourceStage.choices, blank=True)
    state = models.CharField(max_length=20, choices=SourceState.choices, blank=True)
    decision = models.CharField(max_length=10, choices=SourceDecision.choices, blank=True)
    reason_codes = models.JSONField(default=list, blank=True)
    # Thresholds and measured values behind each reason code.
    classification = models.JSONField(default=dict, blank=True)
    word_count = models.PositiveIntegerField(null=True, blank=True)
    text_hash = models.CharField("text SHA-256", max_length=64, blank=True)
    material_hash = models.CharField("material SHA-256", max_length=64, blank=True)
    extractor_version = models.CharField(max_length=50, blank=True)
    # What extraction found besides the text: kind, title, PDF status, classification signals.
    extraction = models.JSONField(default=dict, blank=True)
    # The fetch record: status, final URL, redirects, timing, sizes, hashes, or the error.
    fetch = models.JSONField(default=dict, blank=True)
    material = models.ForeignKey(
        SourceMaterial, null=True, blank=True, on_delete=models.PROTECT, related_name="sources"
    )
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = SourceQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "sha256"], name="source_unique_sha"),
            # A URL added again before it was fetched is the same source.
            models.UniqueConstraint(
                fields=["tenant", "url"],
                condition=Q(kind="url", stage="queued"),
                name="source_unique_unfetched_url",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=SourceKind.values), name="source_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(stage="") | Q(stage__in=SourceStage.values), name="source_stage_valid"
            ),
            models.CheckConstraint(
                condition=Q(state="") | Q(state__in=SourceState.values), name="source_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(decision="") | Q(decision__in=SourceDecision.values),
                name="source_decision_valid",
            ),
            # Added sources are always in the pipeline, with a state.
            models.CheckConstraint(
                condition=(Q(stage="") & Q(state="") & ~Q(kind__in=PIPELINE_KINDS))
                | (~Q(stage="") & ~Q(state="")),
                name="source_pipeline_stage_state",
            ),
            models.CheckConstraint(
                condition=Q(kind="url", sha256__isnull=True)
                | (~Q(kind="url") & Q(sha256__isnull=False)),
                name="source_address_by_kind",
            ),
            # A decision exactly when classified.
            models.CheckConstraint(
                condition=Q(stage="classified", decision__in=SourceDecision.values)
                | (~Q(stage="classified") & Q(decision="")),
                name="source_decided_when_classified",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "stage", "state"])]

    def __str__(self) -> str:
        return self.title or self.url or (self.sha256 or "")[:12] or f"Source {self.pk}"


class RunSource(models.Model):
    """A run cites a source. For pipeline sources it also holds what is relative to the run:
    its decision among the run's sources (near-duplicates are flagged) and the processing
    of accepted sources into the run's prospects."""

    run = models.ForeignKey(ResearchRun, on_delete=models.CASCADE, db_index=False)  # unique leads
    source = models.ForeignKey(Source, on_delete=models.CASCADE)
    decision = models.CharField(max_length=10, choices=SourceDecision.choices, blank=True)
    reason_codes = models.JSONField(default=list, blank=True)
    # The primary of this source's near-duplicate group in the run.
    duplicate_of = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    processed_at = models.DateTimeField(null=True, blank=True)
    # What processing found: companies mentioned, prospects created, evidence added.
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "source"], name="runsource_unique"),
            models.CheckConstraint(
                condition=Q(decision="") | Q(decision__in=SourceDecision.values),
                name="runsource_decision_valid",
            ),
            models.CheckConstraint(
                condition=Q(processed_at__isnull=True) | ~Q(decision=""),
                name="runsource_processed_after_decision",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.run_id} cites {self.source_id}"


class RunEvent(TenantScopedModel):
    """Append-only history of a run: who did what, when, with what outcome."""

    run = models.ForeignKey(ResearchRun, on_delete=models.CASCADE, related_name="events")
    event_type = models.CharField(max_length=50)
    # The run's status after the event.
    status = models.CharField(max_length=20, choices=RunStatus.choices)
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    actor = models.CharField(max_length=200, blank=True)
    # No database constraint: events outlive pruned jobs and keep the id for the record.
    job = models.ForeignKey(
        "jobs.Job",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["run", "created_at"])]

    def __str__(self) -> str:
        return f"{self.event_type} ({self.status})"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise ValueError("Run events are append-only; they are never changed.")
        super().save(*args, **kwargs)


class ReviewStatus(models.TextChoices):
    NEW = "new", "New"
    ACCEPTED = "accepted", "Accepted"
    HOLD = "hold", "On hold"
    REJECTED = "rejected", "Rejected"


class ProspectStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    # The run's newest ingested bundle no longer proposes the company.
    WITHDRAWN = "withdrawn", "Withdrawn"


class ProspectOrigin(models.TextChoices):
    BUNDLE = "bundle", "Research bundle"
    LIST = "list", "Manual list"
    SOURCE = "source", "Mentioned in a source"


class Prospect(TenantScopedModel):
    """A company proposed by a run. Ingestion owns the AI fields; people own the manual
    fields (`review_status`, `manual_priority`, `manual_notes`, `is_pinned`), which
    ingestion never overwrites."""

    tenant = tenant_key(db_index=False)  # (tenant, run, ai_rank) leads
    # Led by the unique (run, company).
    run = models.ForeignKey(
        ResearchRun, on_delete=models.CASCADE, related_name="prospects", db_index=False
    )
    company = models.ForeignKey("ats.Company", on_delete=models.PROTECT, related_name="prospects")
    bundle = models.ForeignKey(
        Bundle, null=True, blank=True, on_delete=models.SET_NULL, related_name="prospects"
    )
    origin = models.CharField(
        max_length=20, choices=ProspectOrigin.choices, default=ProspectOrigin.BUNDLE
    )
    name = models.CharField("name as proposed", max_length=500)
    ai_rank = models.PositiveIntegerField("AI rank", null=True, blank=True)
    ai_score = models.FloatField("AI score", null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=ProspectStatus.choices, default=ProspectStatus.ACTIVE
    )
    # The proposal as the research described it (website, HQ, sector, description...).
    proposal = models.JSONField(default=dict, blank=True)
    review_status = models.CharField(
        max_length=20, choices=ReviewStatus.choices, default=ReviewStatus.NEW
    )
    manual_priority = models.PositiveSmallIntegerField(null=True, blank=True)
    manual_notes = models.TextField(blank=True)
    is_pinned = models.BooleanField(default=False)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    edited_by_actor = models.CharField(max_length=200, blank=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["run", "ai_rank", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "company"], name="prospect_unique_company"),
            models.CheckConstraint(
                condition=Q(ai_score__isnull=True) | Q(ai_score__gte=0, ai_score__lte=1),
                name="prospect_ai_score_range",
            ),
            models.CheckConstraint(
                condition=Q(review_status__in=ReviewStatus.values),
                name="prospect_review_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "run", "ai_rank"]),
            models.Index(fields=["tenant", "company"]),
        ]

    def __str__(self) -> str:
        return self.name


class Verification(models.TextChoices):
    VERIFIED = "verified", "Verified"
    UNVERIFIED = "unverified", "Unverified"


class EvidenceType(models.TextChoices):
    SNIPPET = "snippet", "Snippet"
    MANUAL_LIST = "manual_list", "Manual list"
    MENTION = "mention", "Mention in a source"


class ProspectEvidence(TenantScopedModel):
    """A passage of a source that supports a prospect. Added, never duplicated."""

    # Led by the unique (prospect, source, text_sha256).
    prospect = models.ForeignKey(
        Prospect, on_delete=models.CASCADE, related_name="evidence", db_index=False
    )
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="evidence")
    evidence_type = models.CharField(
        max_length=20, choices=EvidenceType.choices, default=EvidenceType.SNIPPET
    )
    text = models.TextField()
    # SHA-256 of the normalized text (whitespace collapsed, casefolded): the dedup key.
    text_sha256 = models.CharField(max_length=64)
    verification = models.CharField(max_length=20, choices=Verification.choices)
    weight = models.FloatField(default=1.0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name_plural = "prospect evidence"
        constraints = [
            models.UniqueConstraint(
                fields=["prospect", "source", "text_sha256"], name="evidence_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.text[:80]


class MetricType(models.TextChoices):
    NUMBER = "number"
    TEXT = "text"
    BOOL = "bool"
    JSON = "json"


class ProspectMetric(TenantScopedModel):
    """A typed fact about a prospect (headcount, revenue...) with its source."""

    # Led by the unique (prospect, identity_sha256).
    prospect = models.ForeignKey(
        Prospect, on_delete=models.CASCADE, related_name="metrics", db_index=False
    )
    key = models.CharField(max_length=100)
    value_type = models.CharField(max_length=10, choices=MetricType.choices)
    value_number = models.FloatField(null=True, blank=True)
    value_text = models.TextField(null=True, blank=True)
    value_bool = models.BooleanField(null=True, blank=True)
    value_json = models.JSONField(null=True, blank=True)
    unit = models.CharField(max_length=50, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    as_of_date = models.DateField(null=True, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.PROTECT, related_name="metrics"
    )
    # SHA-256 of (key, type, value, unit, currency, as_of_date, source SHA-256): identical
    # metrics are stored once.
    identity_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["prospect", "identity_sha256"], name="metric_unique_identity"
            ),
            models.CheckConstraint(
                condition=Q(value_type__in=MetricType.values), name="metric_type_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key}={self.value}"

    @property
    def value(self) -> object:
        return {
            MetricType.NUMBER: self.value_number,
            MetricType.TEXT: self.value_text,
            MetricType.BOOL: self.value_bool,
            MetricType.JSON: self.value_json,
        }[self.value_type]
