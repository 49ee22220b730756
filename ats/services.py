"""Writes to tenants, members, API keys and companies. The admin, the API and the
management commands all call these functions."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from .errors import Conflict, FieldError, InvalidInput
from .models import AliasType, ApiKey, Company, CompanyAlias, MemberRole, Membership, Tenant
from .normalize import normalize_company_name, registrable_domain

MSG_SLUG_TAKEN = "A tenant with slug {slug!r} exists already."
MSG_DOMAIN_TAKEN = "Another company of this tenant has the domain {domain!r}."
MSG_NO_DOMAIN = "{value!r} has no registrable domain (a host such as example.com)."
MSG_BLANK_NAME = "The name may not be blank."


def tenant_create(*, name: str, slug: str) -> Tenant:
    try:
        with transaction.atomic():
            return Tenant.objects.create(name=name, slug=slug)
    except IntegrityError as exc:
        raise Conflict(MSG_SLUG_TAKEN.format(slug=slug)) from exc


def member_add(*, tenant: Tenant, email: str, role: str) -> tuple[Membership, bool]:
    """Give the user with this email (created without a usable password if new) a role in
    the tenant. Returns the membership and whether the user was created."""
    role = MemberRole(role)
    user_model = get_user_model()
    with transaction.atomic():
        user = user_model.objects.filter(email__iexact=email).first()
        user_created = user is None
        if user is None:
            user = user_model(username=email, email=email, is_staff=True)
            user.set_unusable_password()
            user.save()
        elif not user.is_staff:
            # Members review in the admin, which only staff may enter.
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        membership, _ = Membership.objects.update_or_create(
            tenant=tenant, user=user, defaults={"role": role}
        )
    return membership, user_created


def api_key_create(
    *, tenant: Tenant, role: str, name: str = "", created_by: AbstractBaseUser | None = None
) -> tuple[ApiKey, str]:
    """Create a key and return it with its raw secret, which is never stored or shown again."""
    prefix, raw_key = ApiKey.generate()
    api_key = ApiKey.objects.create(
        tenant=tenant,
        role=MemberRole(role),
        name=name,
        prefix=prefix,
        key_hash=ApiKey.hash_key(raw_key),
        created_by=created_by,
    )
    return api_key, raw_key


def api_key_revoke(*, api_key: ApiKey) -> None:
    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    api_key.refresh_from_db(fields=["revoked_at"])


def _clean_domain(value: str, *, loc: str) -> str:
    if not value:
        return ""
    domain = registrable_domain(value)
    if not domain:
        raise InvalidInput(
            "Invalid domain.",
            errors=[FieldError(loc, MSG_NO_DOMAIN.format(value=value), "invalid_domain")],
        )
    return domain


def company_create(*, tenant: Tenant, name: str, domain: str = "", **fields: str) -> Company:
    if not name.strip():
        raise InvalidInput(MSG_BLANK_NAME, errors=[FieldError("name", MSG_BLANK_NAME, "blank")])
    domain = _clean_domain(domain or fields.get("website", ""), loc="domain")
    company = Company(
        tenant=tenant,
        name=name.strip(),
        normalized_name=normalize_company_name(name),
        domain=domain,
        **fields,
    )
    try:
        with transaction.atomic():
            company.save()
    except IntegrityError as exc:
        raise Conflict(
            MSG_DOMAIN_TAKEN.format(domain=domain),
            errors=[FieldError("domain", MSG_DOMAIN_TAKEN.format(domain=domain), "unique")],
        ) from exc
    return company


COMPANY_EDITABLE_FIELDS = (
    "name",
    "domain",
    "website",
    "hq_country",
    "hq_city",
    "sector",
    "description",
)


def company_update(*, company: Company, **changes: str) -> Company:
    """Change a company's editable fields; the normalized name and domain follow."""
    unknown = set(changes) - set(COMPANY_EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput(
            "Unknown fields.",
            errors=[FieldError(f, "This field cannot be changed.", "read_only") for f in unknown],
        )
    if "name" in changes:
        if not changes["name"].strip():
            raise InvalidInput(MSG_BLANK_NAME, errors=[FieldError("name", MSG_BLANK_NAME, "blank")])
        changes["name"] = changes["name"].strip()
        company.normalized_name = normalize_company_name(changes["name"])
    if "domain" in changes:
        changes["domain"] = _clean_domain(changes["domain"], loc="domain")
    for field, value in changes.items():
        setattr(company, field, value)
    company.updated_at = timezone.now()
    try:
        with transaction.atomic():
            company.save(update_fields=[*changes, "normalized_name", "updated_at"])
    except IntegrityError as exc:
        message = MSG_DOMAIN_TAKEN.format(domain=company.domain)
        raise Conflict(message, errors=[FieldError("domain", message, "unique")]) from exc
    return company


def company_alias_save(*, alias: CompanyAlias) -> CompanyAlias:
    """Save a new or edited alias with its tenant and normalized form kept in step."""
    alias.tenant_id = alias.company.tenant_id
    alias.alias = alias.alias.strip()
    alias.normalized_alias = normalize_company_name(alias.alias)
    alias.save()
    return alias


def company_alias_add(
    *, company: Company, alias: str, alias_type: str = AliasType.OTHER
) -> CompanyAlias:
    """Add an alias unless the company has it already (by normalized form)."""
    normalized = normalize_company_name(alias)
    found, _ = CompanyAlias.objects.get_or_create(
        company=company,
        normalized_alias=normalized,
        defaults={"tenant_id": company.tenant_id, "alias": alias.strip(), "alias_type": alias_type},
    )
    return found
