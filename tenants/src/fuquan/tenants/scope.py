"""TenantScope: the tenant and subtree a caller may see — produced here and nowhere else.

Repositories take a scope rather than a bare tenant id, so a query cannot forget its tenant,
and a unit outside the scope reads exactly like a unit that does not exist (404).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class TenantScope:
    tenant_id: int
    tenant_code: str
    root_code: str  # the caller's unit: their scope is its subtree
    timezone: str = "Asia/Shanghai"

    def covers(self, code: str) -> bool:
        return code.startswith(self.root_code)

    @property
    def is_tenant_wide(self) -> bool:
        return self.root_code == self.tenant_code

    def whole(self) -> TenantScope:
        """The whole tenant this scope lies in: for what belongs to the tenant rather than to a unit (its policy,
        catalogue and calendar), whichever unit's caller reaches it first."""
        return (
            self
            if self.is_tenant_wide
            else TenantScope(self.tenant_id, self.tenant_code, self.tenant_code, self.timezone)
        )


def scope_for(tenant_id: int, tenant_code: str, unit_code: str, timezone: str = "Asia/Shanghai") -> TenantScope:
    """The only constructor callers should use: the subtree of the unit a person works at."""
    if not unit_code.startswith(tenant_code):
        raise ValueError("a unit always lies inside its tenant")
    return TenantScope(tenant_id=tenant_id, tenant_code=tenant_code, root_code=unit_code, timezone=timezone)


class _Tenant(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def code(self) -> str: ...
    @property
    def timezone(self) -> str: ...


def whole_tenant(tenant: _Tenant) -> TenantScope:
    """The whole tenant: for the operator's commands, start-up and the tenant's own settings (policy, catalogue,
    calendar), and for what a resident's query code has already found."""
    return scope_for(tenant.id, tenant.code, tenant.code, tenant.timezone)
