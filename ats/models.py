"""Core models: tenants and their members and API keys, and the canonical ATS records
(companies, aliases, roles) that research feeds.

Every model with a `tenant` field uses a `TenantQuerySet`, so reads are written as
`Model.objects.for_tenant(tenant)`; `ats/tests/test_tenancy.py` fails for a model without it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

if TYPE_CHECKING:
    from typing import Self


class TenantQuerySet(models.QuerySet):
    def for_tenant(self, tenant: Tenant) -> Self:
        """Rows of one tenant. `tenant` may not be None: a missing tenant is a bug, not 'all'."""
        if tenant is None:
            raise ValueError("for_tenant() needs a tenant; got None.")
        return self.filter(tenant=tenant)


def tenant_key(*, db_index: bool = True) -> models.ForeignKey:
    """`TenantScopedModel.tenant`. A model with an index that the tenant leads redeclares it
    with `db_index=False`: an index of the key alone would serve no query and cost every
    insert."""
    return models.ForeignKey(
        "ats.Tenant", on_delete=models.CASCADE, related_name="+", db_index=db_index
    )


class TenantScopedModel(models.Model):
    """Base of every model that belongs to exactly one tenant."""

    tenant = tenant_key()

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


class Tenant(models.Model):
    """A search firm. Every business row belongs to exactly one tenant."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MemberRole(models.TextChoices):
    """Roles, from least to most powerful (SPEC §9)."""

    ANALYST = "analyst", "Analyst"
    REVIEWER = "reviewer", "Reviewer"
    ADMIN = "admin", "Admin"

    @classmethod
    def rank(cls, role: str) -> int:
        return [cls.ANALYST, cls.REVIEWER, cls.ADMIN].index(cls(role))

    @classmethod
    def at_least(cls, role: str, required: str) -> bool:
        return cls.rank(role) >= cls.rank(required)


class Membership(TenantScopedModel):
    """A Django user's membership in a tenant, with a role."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=MemberRole.choices)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique_user"),
            models.CheckConstraint(
                condition=Q(role__in=MemberRole.values), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant} ({self.role})"


API_KEY_PREFIX = "ats"


class ApiKey(TenantScopedModel):
    """A per-tenant secret for automation. Only a SHA-256 of the key is stored.

    Keys look like `ats_<prefix>_<secret>`: the prefix finds the row, the hash proves the
    secret. The secret has 256 bits of entropy, so a fast hash is as good as a slow one.
    """

    name = models.CharField(max_length=100, blank=True)
    role = models.CharField(max_length=20, choices=MemberRole.choices)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=MemberRole.values), name="apikey_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name or 'API key'} ({API_KEY_PREFIX}_{self.prefix}_…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @staticmethod
    def hash_key(raw_key: str) -> str:
        return hashlib.sha256(raw_key.encode()).hexdigest()

    @staticmethod
    def generate() -> tuple[str, str]:
        """A new (prefix, raw key) pair."""
        prefix = secrets.token_hex(6)
        return prefix, f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"

    @staticmethod
    def split_prefix(raw_key: str) -> str | None:
        parts = raw_key.split("_", 2)
        if len(parts) != 3 or parts[0] != API_KEY_PREFIX or not parts[1] or not parts[2]:
            return None
        return parts[1]

    def matches(self, raw_key: str) -> bool:
        return hmac.compare_digest(self.key_hash, self.hash_key(raw_key))


class Company(TenantScopedModel):
    """The tenant's canonical record of a company. Research matches proposals against it."""

    tenant = tenant_key(db_index=False)  # (tenant, normalized_name) leads
    name = models.CharField(max_length=500)
    normalized_name = models.CharField(max_length=500, editable=False)
    # The registrable domain ("example.co.uk"), unique per tenant when set.
    domain = models.CharField(max_length=253, blank=True)
    website = models.URLField(max_length=2000, blank=True)
    hq_country = models.CharField("HQ country", max_length=2, blank=True)
    hq_city = models.CharField("HQ city", max_length=200, blank=True)
    sector = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "companies"
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "domain"],
                condition=~Q(domain=""),
                name="company_unique_domain_per_tenant",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "normalized_name"])]

    def __str__(self) -> str:
        return self.name


class AliasType(models.TextChoices):
    LEGAL = "legal", "Legal name"
    TRADE = "trade", "Trade name"
    FORMER = "former", "Former name"
    LOCAL = "local", "Local-language name"
    ABBREVIATION = "abbreviation", "Abbreviation"
    OTHER = "other", "Other"


class CompanyAlias(TenantScopedModel):
    """Another name of a company. `tenant` repeats the company's so that matching can look
    aliases up by (tenant, normalized alias) in one index."""

    tenant = tenant_key(db_index=False)  # (tenant, normalized_alias) leads
    # Led by the unique (company, normalized_alias).
    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="aliases", db_index=False
    )
    alias = models.CharField(max_length=500)
    normalized_alias = models.CharField(max_length=500, editable=False)
    alias_type = models.CharField(
        "type", max_length=20, choices=AliasType.choices, default=AliasType.OTHER
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name_plural = "company aliases"
        constraints = [
            models.UniqueConstraint(
                fields=["company", "normalized_alias"], name="alias_unique_per_company"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "normalized_alias"])]

    def __str__(self) -> str:
        return self.alias


class RoleStatus(models.TextChoices):
    OPEN = "open", "Open"
    ON_HOLD = "on_hold", "On hold"
    CLOSED = "closed", "Closed"


class Role(TenantScopedModel):
    """A search mandate that research serves."""

    title = models.CharField(max_length=300)
    client_company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.PROTECT, related_name="roles"
    )
    status = models.CharField(max_length=20, choices=RoleStatus.choices, default=RoleStatus.OPEN)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=RoleStatus.values), name="role_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class IdempotencyRecord(TenantScopedModel):
    """A POST made with an `Idempotency-Key` header (SPEC §9): the request's fingerprint
    and, once answered, the response to replay for a repeat of the same request."""

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress"
        COMPLETED = "completed"

    key = models.CharField(max_length=255)
    request_sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_content_type = models.CharField(max_length=100, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="idempotency_unique_key"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"


class BackfillCheckpoint(models.Model):
    """Where a backfill command got to (`ats.management.backfill`): a run that was killed
    resumes after the last batch it committed. One row per command and scope; a finished
    run's row stays, for the record, until the next run of the same command and scope."""

    command = models.CharField(max_length=100)
    # "all" or "tenant:<id>" (ids survive a slug change).
    scope = models.CharField(max_length=100)
    pass_name = models.CharField(max_length=100)
    # The primary key of the last row of the last committed batch, as text.
    last_key = models.CharField(max_length=200, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["command", "scope"], name="backfill_unique_scope"),
        ]

    def __str__(self) -> str:
        state = "finished" if self.finished_at else f"at {self.pass_name} {self.last_key}"
        return f"{self.command} ({self.scope}): {state}"
