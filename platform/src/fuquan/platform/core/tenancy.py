"""What this layer knows of a tenant's scope: its id. The scope type itself (``fuquan.tenants.scope.TenantScope``)
lives above ``platform.core`` in DESIGN §3's direction, so the core's repositories and caches accept anything that
names a tenant the way a scope does."""

from __future__ import annotations

from typing import Protocol


class OfTenant(Protocol):
    @property
    def tenant_id(self) -> int: ...


class NamedTenant(OfTenant, Protocol):
    """A tenant's scope as the key ring needs it: its id, and its code (part of every blind index)."""

    @property
    def tenant_code(self) -> str: ...
