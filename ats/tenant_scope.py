"""Which tenants' rows the database lets the current code see (row-level security).

On PostgreSQL every tenant table has a row-level security policy keyed on the transaction
setting `ats.tenant_ids` (migrations create them: `ats.db.operations.EnableTenantRowSecurity`).
The database backend (`ats.db.backends.postgresql`) sets it with `SET LOCAL` semantics in each
transaction from the scope below, so it works behind PgBouncer in transaction mode. This is
defence in depth: querysets are still filtered by tenant in Python; a query that forgets to
is stopped by the database instead of leaking another firm's data.

A scope is one of:
- `NO_TENANT`: nothing of any tenant is visible. Every web request starts here; the API's
  authentication narrows it to the caller's tenant, the admin to the staff member's tenants.
- a frozenset of tenant ids: exactly those tenants.
- `ALL_TENANTS`: the system (management commands, tenant-less jobs, the lookups that find the
  caller's tenant from an API key or a membership, aggregate metrics).

Code that sets no scope runs in the process's default: `ALL_TENANTS` once Django is set up
(commands, workers, scripts: `AtsConfig.ready`), `NO_TENANT` in web processes (`ats/wsgi.py`,
`ats/asgi.py`); a request starts with `NO_TENANT` in any process.
SQLite has no row-level security: there the scope changes nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar


class Visibility(enum.Enum):
    NO_TENANT = "none"
    ALL_TENANTS = "all"


NO_TENANT = Visibility.NO_TENANT
ALL_TENANTS = Visibility.ALL_TENANTS

Scope = Visibility | frozenset[int]

_scope: ContextVar[Scope | None] = ContextVar("ats_tenant_scope", default=None)
_process_default: Scope = NO_TENANT


def set_process_default(scope: Scope) -> None:
    """The scope of code that sets none (new threads start with no context of their own)."""
    global _process_default  # noqa: PLW0603 - one per process, set at startup
    _process_default = scope


@contextmanager
def process_scope(scope: Scope) -> Iterator[None]:
    """The process default for the duration of a block (a worker's run: its threads start
    with no context of their own), then the previous default again."""
    previous = _process_default
    set_process_default(scope)
    try:
        yield
    finally:
        set_process_default(previous)


def current_scope() -> Scope:
    scope = _scope.get()
    return _process_default if scope is None else scope


def scope_of(tenant_ids: Iterable[int | None]) -> Scope:
    return frozenset(int(tenant_id) for tenant_id in tenant_ids if tenant_id is not None)


@contextmanager
def tenant_scope(scope: Scope) -> Iterator[None]:
    """Run the block with `scope` (a `Visibility` or tenant ids), then restore the previous."""
    if not isinstance(scope, Visibility):
        scope = scope_of(scope)
    token = _scope.set(scope)
    try:
        yield
    finally:
        _scope.reset(token)


def system_scope() -> AbstractContextManager[None]:
    """Every tenant: for lookups that find the caller's tenant, and for aggregates."""
    return tenant_scope(ALL_TENANTS)


def enter_scope(scope: Scope) -> None:
    """Set the scope for the rest of the current context (a request, after authentication);
    the surrounding `tenant_scope` block restores the previous one."""
    _scope.set(scope if isinstance(scope, Visibility) else scope_of(scope))


def tenant_or_system(tenant_id: int | None) -> AbstractContextManager[None]:
    """The scope of work done for one tenant, or for the system when there is none (jobs)."""
    return tenant_scope(ALL_TENANTS if tenant_id is None else frozenset([tenant_id]))


def setting_value(scope: Scope) -> str:
    """The value of `ats.tenant_ids` for a scope: '' (no tenant), '*' (all) or '1,2'."""
    if scope is ALL_TENANTS:
        return "*"
    if scope is NO_TENANT:
        return ""
    return ",".join(str(tenant_id) for tenant_id in sorted(scope))


def in_current_scope[T](items: Iterable[T]) -> Iterator[T]:
    """Iterate `items` in the scope current now, also when iterated later: for streamed
    responses, whose body is produced after the request's middleware has returned."""
    scope = current_scope()
    with tenant_scope(scope):
        yield from items
