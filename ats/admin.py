"""Admin for tenants, members, API keys, companies and roles, and the tenant scoping that
every app's admin uses: staff see only their tenants' rows; superusers see all."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.timesince import timesince

from . import services
from .models import ApiKey, Company, CompanyAlias, MemberRole, Membership, Role, Tenant
from .normalize import normalize_company_name, registrable_domain


def member_roles(request: HttpRequest) -> dict[int, str]:
    """The admin user's role in each of their tenants (tenant id → role), once per request."""
    cached = getattr(request, "_admin_member_roles", None)
    if cached is None:
        user = request.user
        # The login page asks too, for anonymous users: they have no roles.
        cached = (
            dict(Membership.objects.filter(user=user).values_list("tenant_id", "role"))
            if user.is_authenticated and user.is_active and user.is_staff
            else {}
        )
        request._admin_member_roles = cached
    return cached


def tenant_ids_for(request: HttpRequest) -> list[int] | None:
    """The tenants this admin user may see; None means all (superuser)."""
    if request.user.is_active and request.user.is_superuser:
        return None
    return list(member_roles(request))


def has_tenant_role(request: HttpRequest, role: str, tenant_id: int | None = None) -> bool:
    """Superusers always; members when their role (in `tenant_id`, or in any of their
    tenants) is at least `role`."""
    if request.user.is_active and request.user.is_superuser:
        return True
    roles = member_roles(request)
    if tenant_id is not None:
        return tenant_id in roles and MemberRole.at_least(roles[tenant_id], role)
    return any(MemberRole.at_least(r, role) for r in roles.values())


def ago(moment: datetime | None) -> str:
    """How long ago, in one unit ("3 hours ago"): short enough for a column of a list. Under a
    minute, or ahead of this host's clock (database times), "just now", not "0 minutes ago"."""
    if moment is None:
        return "-"
    now = timezone.now()
    if now - moment < timedelta(minutes=1):
        return "just now"
    return f"{timesince(moment, now, depth=1)} ago"


admin.site.site_header = "ATS Research"
admin.site.site_title = "ATS Research"
admin.site.index_title = "Research workplace"
# The index and the breadcrumbs lead everywhere; the sidebar's 300 px go to the lists, so
# that they fit a 1366 px wide laptop screen without cutting columns off.
admin.site.enable_nav_sidebar = False

# A permission no tenant role grants: superusers only.
SUPERUSER_ONLY = "superuser"


class TenantScopedAdmin(admin.ModelAdmin):
    """Base ModelAdmin of tenant-owned models.

    Staff see only their tenants' rows; superusers see all. Permissions follow the tenant
    role (SPEC §9) rather than Django's per-model permissions, so a member needs nothing
    but a membership: `view_role`, `add_role`, `change_role` and `delete_role` say which role
    each needs. `tenant_path` is the lookup from the model to its tenant.
    """

    tenant_path = "tenant"
    view_role = MemberRole.ANALYST
    add_role = MemberRole.ADMIN
    change_role = MemberRole.ADMIN
    delete_role = MemberRole.ADMIN

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        tenant_ids = tenant_ids_for(request)
        if tenant_ids is None:
            return queryset
        return queryset.filter(**{f"{self.tenant_path}__in": tenant_ids})

    def _tenant_id_of(self, obj: Any) -> int | None:
        if obj is None:
            return None
        value = obj
        for part in self.tenant_path.split("__"):
            try:
                value = getattr(value, part)
            except ObjectDoesNotExist:  # an unsaved row of a crafted form: no tenant yet
                return None
            if value is None:
                return None
        return value.pk

    def _allowed(self, request: HttpRequest, role: str | None, obj: Any = None) -> bool:
        if role is None:  # nobody: such rows change only through services (API, jobs)
            return False
        if obj is not None and obj._state.adding:
            # A row that does not exist (a list-edit form naming a foreign or unknown id):
            # nothing to view or change. Its form fails validation instead of a 500.
            return False
        if request.user.is_active and request.user.is_superuser:
            return True
        return role != SUPERUSER_ONLY and has_tenant_role(request, role, self._tenant_id_of(obj))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request, self.view_role)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, self.view_role, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, self.add_role)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, self.change_role, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, self.delete_role, obj)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        queryset = scoped_choices(request, db_field.related_model)
        if queryset is not None:
            kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        queryset = scoped_choices(request, db_field.related_model)
        if queryset is not None:
            kwargs["queryset"] = queryset
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_list_filter(self, request: HttpRequest) -> list:
        """Filters whose choices come from the user's tenants only: a relation filter lists
        the related rows of the visible rows ("By run", "By role"...), and the tenant filter
        is offered only to those who see several tenants."""
        scoped: list = []
        for entry in super().get_list_filter(request):
            if not isinstance(entry, str):
                scoped.append(entry)
            elif _is_tenant_path(self.model, entry) and not sees_several_tenants(request):
                continue
            elif _is_relation(self.model, entry):
                scoped.append((entry, admin.RelatedOnlyFieldListFilter))
            else:
                scoped.append(entry)
        return scoped

    def get_list_display(self, request: HttpRequest) -> list:
        columns = list(super().get_list_display(request))
        if not sees_several_tenants(request):
            columns = [c for c in columns if c != "tenant"]
        return columns

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        """An autocomplete may ask for one tenant's rows (`?tenant=<id>`), e.g. the review
        page's company search, which offers only the run's tenant's companies."""
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        tenant = request.GET.get("tenant", "")
        match = request.resolver_match
        if match is not None and match.url_name == "autocomplete" and tenant.isdigit():
            found = found.filter(**{self.tenant_path: int(tenant)})
        return found, may_have_duplicates


def sees_several_tenants(request: HttpRequest) -> bool:
    """Superusers and staff of more than one tenant: only they need a tenant filter/column."""
    return (request.user.is_active and request.user.is_superuser) or len(member_roles(request)) > 1


def scoped_choices(request: HttpRequest, model: type) -> QuerySet | None:
    """The rows of `model` a form may offer this user (None: no scoping needed)."""
    tenant_ids = tenant_ids_for(request)
    if tenant_ids is None:
        return None
    if model is Tenant:
        return Tenant.objects.filter(pk__in=tenant_ids)
    if any(f.name == "tenant" for f in model._meta.fields):
        return model._default_manager.filter(tenant_id__in=tenant_ids)
    return None


def _field_at(model: type, path: str) -> Any:
    field = None
    for part in path.split("__"):
        if model is None:
            return None
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        model = field.related_model
    return field


def _is_relation(model: type, path: str) -> bool:
    field = _field_at(model, path)
    return field is not None and field.is_relation


def _is_tenant_path(model: type, path: str) -> bool:
    field = _field_at(model, path)
    return field is not None and field.is_relation and field.related_model is Tenant


class TenantScopedInline(admin.options.InlineModelAdmin):
    """Inline permissions by tenant role, like TenantScopedAdmin (the parent object is
    already tenant-checked). Read-only unless `change_role` is set."""

    view_role = MemberRole.ANALYST
    change_role: str | None = None

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return has_tenant_role(request, self.view_role)

    def _can_change(self, request: HttpRequest) -> bool:
        return self.change_role is not None and has_tenant_role(request, self.change_role)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._can_change(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._can_change(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._can_change(request)


@admin.register(Tenant)
class TenantAdmin(TenantScopedAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    tenant_path = "pk"
    add_role = SUPERUSER_ONLY  # or `manage.py create_tenant`
    delete_role = SUPERUSER_ONLY

    def _tenant_id_of(self, obj: Any) -> int | None:
        return None if obj is None else obj.pk

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        tenant_ids = tenant_ids_for(request)
        queryset = admin.ModelAdmin.get_queryset(self, request)
        return queryset if tenant_ids is None else queryset.filter(pk__in=tenant_ids)


@admin.register(Membership)
class MembershipAdmin(TenantScopedAdmin):
    # Picking users would show every tenant's users: superusers (or `manage.py add_member`).
    view_role = MemberRole.ADMIN
    add_role = change_role = delete_role = SUPERUSER_ONLY
    list_display = ["user", "tenant", "role", "created_at"]
    list_filter = ["role", "tenant"]
    search_fields = ["user__username", "user__email", "tenant__name"]
    autocomplete_fields = ["user"]


@admin.register(ApiKey)
class ApiKeyAdmin(TenantScopedAdmin):
    view_role = MemberRole.ADMIN
    list_display = ["name", "tenant", "role", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["role", "tenant", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    readonly_fields = ["prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    fields = ["tenant", "name", "role", *readonly_fields]
    actions = ["revoke"]

    def has_change_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        return False  # a key is created or revoked, never edited

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        api_key, raw_key = services.api_key_create(
            tenant=obj.tenant, role=obj.role, name=obj.name, created_by=request.user
        )
        obj.pk = api_key.pk
        obj.refresh_from_db()
        messages.warning(
            request, f"The new API key is {raw_key} — copy it now; it will not be shown again."
        )

    @admin.action(description="Revoke selected API keys", permissions=["delete"])
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> None:
        for api_key in queryset:
            services.api_key_revoke(api_key=api_key)
        messages.success(request, f"Revoked {queryset.count()} API key(s).")


class CompanyForm(forms.ModelForm):
    class Meta:
        model = Company
        fields = ["tenant", *services.COMPANY_EDITABLE_FIELDS]

    def clean_domain(self) -> str:
        value = self.cleaned_data["domain"]
        domain = registrable_domain(value)
        if value and not domain:
            raise forms.ValidationError(services.MSG_NO_DOMAIN.format(value=value))
        return domain

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("name"):
            # Set before model validation, which checks the constraints.
            self.instance.normalized_name = normalize_company_name(cleaned["name"])
        return cleaned


class CompanyAliasInline(TenantScopedInline, admin.TabularInline):
    model = CompanyAlias
    change_role = MemberRole.ADMIN
    fields = ["alias", "alias_type", "normalized_alias"]
    readonly_fields = ["normalized_alias"]
    extra = 0


@admin.register(Company)
class CompanyAdmin(TenantScopedAdmin):
    list_display = ["name", "domain", "hq_country", "sector", "tenant", "updated_at"]
    list_filter = ["tenant", "hq_country", "sector"]
    search_fields = ["name", "normalized_name", "domain", "aliases__alias"]
    readonly_fields = ["normalized_name", "created_at", "updated_at"]
    inlines = [CompanyAliasInline]
    form = CompanyForm
    show_full_result_count = False

    def save_model(self, request: HttpRequest, obj: Company, form: Any, change: bool) -> None:
        values = {
            f: form.cleaned_data[f]
            for f in services.COMPANY_EDITABLE_FIELDS
            if f in form.cleaned_data
        }
        if change:
            changed = {f: v for f, v in values.items() if f in form.changed_data}
            services.company_update(company=obj, **changed)
        else:
            created = services.company_create(tenant=form.cleaned_data["tenant"], **values)
            obj.pk = created.pk
            obj._state.adding = False

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        for alias in formset.save(commit=False):
            services.company_alias_save(alias=alias)
        for alias in formset.deleted_objects:
            alias.delete()


@admin.register(Role)
class RoleAdmin(TenantScopedAdmin):
    list_display = ["title", "client_company", "status", "tenant", "created_at"]
    list_filter = ["status", "tenant"]
    search_fields = ["title", "client_company__name"]
    autocomplete_fields = ["client_company"]
    add_role = change_role = MemberRole.REVIEWER
