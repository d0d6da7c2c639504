"""Actor: the authenticated staff member a request acts as, with their scope and roles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fuquan.platform.accounts.roles import PERMISSION_NAMES, permissions_of
from fuquan.platform.core.audit.services import AuditEntry
from fuquan.platform.core.errors import PermissionDenied
from fuquan.tenants.scope import TenantScope

SELF = "self"  # a route about the caller's own session needs no further permission


@dataclass(frozen=True, slots=True)
class Actor:
    staff_id: int
    username: str
    display_name: str
    unit_code: str
    roles: frozenset[str]
    scope: TenantScope
    token_id: int | None = None

    @property
    def tenant_id(self) -> int:
        return self.scope.tenant_id

    @property
    def permissions(self) -> frozenset[str]:
        return permissions_of(self.roles)

    @property
    def role_label(self) -> str:
        """The roles, for audit records."""
        return ",".join(sorted(self.roles))

    def audit_entry(
        self,
        action: str,
        *,
        resource: str | None = None,
        request_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> AuditEntry:
        """An audit record of something this person did, at their unit, in their roles."""
        return AuditEntry(
            action=action,
            tenant_id=self.tenant_id,
            actor=self.username,
            actor_id=self.staff_id,
            role=self.role_label,
            unit=self.unit_code,
            resource=resource,
            request_id=request_id,
            detail=detail or {},
        )

    def require(self, permission: str) -> None:
        if permission != SELF and permission not in self.permissions:
            name = PERMISSION_NAMES.get(permission, permission)
            raise PermissionDenied(f"您的岗位没有“{name}”权限", rule="role_permission")
