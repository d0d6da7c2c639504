"""Partner configuration verbs and the per-process directory that turns a tenant's configuration
into a ``SharedDataProvider`` (DESIGN §8: production points the adapters at real gateways by
per-tenant configuration; the demo points them at the built-in simulators)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.integrations.gateway.endpoints import PartnerEndpoint
from fuquan.integrations.gateway.pool import GatewayPool
from fuquan.integrations.materials import PartnerDataProvider
from fuquan.integrations.models import PartnerEndpointRecord, partner_secret_context
from fuquan.integrations.partners.schemas import PARTNERS, Partner
from fuquan.integrations.repositories import PartnerEndpointRepository
from fuquan.integrations.shared_data import SOURCE_LABELS, NotConfiguredProvider, SharedDataProvider
from fuquan.platform.core.audit.services import AuditEntry, append
from fuquan.platform.core.errors import ValidationFailed
from fuquan.platform.core.keys.ciphers import TenantCipher
from fuquan.platform.core.keys.services import KeyRing
from fuquan.platform.core.timeutil import utcnow
from fuquan.platform.core.versions.services import PARTNERS as PARTNERS_SETTING
from fuquan.platform.core.versions.services import TenantSettingCache, changed
from fuquan.tenants.scope import TenantScope

log = structlog.get_logger()


class EndpointRead(msgspec.Struct, frozen=True, kw_only=True):
    """A partner's configuration as operators see it: never the secret."""

    partner: str
    partner_name: str
    base_url: str
    app_key: str
    timeout_seconds: float
    retries: int
    enabled: bool
    updated_by: str | None


async def _enabled(session: AsyncSession, scope: TenantScope) -> Sequence[PartnerEndpointRecord]:
    return tuple(r for r in await PartnerEndpointRepository(session).for_tenant(scope) if r.enabled)


def _check(partner: str, base_url: str, app_key: str, secret: str, timeout_seconds: float, retries: int) -> None:
    if partner not in PARTNERS:
        raise ValidationFailed(f"未知的共享数据部门：{partner}（可选：{'、'.join(PARTNERS)}）", rule="partner")
    if not base_url.startswith(("http://", "https://")):
        raise ValidationFailed("网关地址须以 http:// 或 https:// 开头", rule="partner_url")
    if not app_key.strip() or not secret.strip():
        raise ValidationFailed("应用密钥（app key）和签名密钥不能为空", rule="partner_credentials")
    if not 0.1 <= timeout_seconds <= 30:
        raise ValidationFailed("超时时间须在 0.1 到 30 秒之间", rule="partner_timeout")
    if not 0 <= retries <= 5:
        raise ValidationFailed("重试次数须在 0 到 5 之间", rule="partner_retries")


async def configure(
    session: AsyncSession,
    keys: KeyRing,
    *,
    scope: TenantScope,
    partner: str,
    base_url: str,
    app_key: str,
    secret: str,
    timeout_seconds: float = 2.0,
    retries: int = 2,
    enabled: bool = True,
    actor: str | None = None,
) -> PartnerEndpointRecord:
    """配置共享数据接口: where and how this tenant reaches one partner; audited, secret encrypted."""
    _check(partner, base_url, app_key, secret, timeout_seconds, retries)
    tenant_code, cipher = scope.tenant_code, await keys.cipher(scope, session)
    record = await PartnerEndpointRepository(session).put(
        scope, partner, base_url=base_url.rstrip("/"), app_key=app_key.strip(),
        secret_cipher=cipher.encrypt(secret.strip(), context=partner_secret_context(tenant_code, partner)),
        timeout_seconds=timeout_seconds, retries=retries, enabled=enabled, updated_at=utcnow(), updated_by=actor,
    )  # fmt: skip
    await changed(session, scope, PARTNERS_SETTING)
    await append(
        session,
        AuditEntry(
            action="partner.configure",
            tenant_id=scope.tenant_id,
            actor=actor,
            resource=f"partner:{partner}",
            detail={"base_url": record.base_url, "app_key": record.app_key, "enabled": enabled},
        ),
    )
    log.info("partner_configured", tenant=tenant_code, partner=partner)
    return record


async def endpoints(session: AsyncSession, scope: TenantScope) -> list[EndpointRead]:
    return [
        EndpointRead(
            partner=r.partner,
            partner_name=SOURCE_LABELS.get(r.partner, r.partner),
            base_url=r.base_url,
            app_key=r.app_key,
            timeout_seconds=r.timeout_seconds,
            retries=r.retries,
            enabled=r.enabled,
            updated_by=r.updated_by,
        )
        for r in await PartnerEndpointRepository(session).for_tenant(scope)
    ]


class PartnerDirectory:
    """One per process: the gateway clients (with their breakers, bulkheads and cache) of every
    tenant's configured partners, and the providers built on them. With a session maker, a tenant's
    configuration is read once and kept until it changes (its ``PARTNERS`` setting version)."""

    def __init__(
        self,
        keys: KeyRing,
        pool: GatewayPool,
        session_maker: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self.keys = keys
        self.pool = pool
        self._configured = (
            None if session_maker is None else TenantSettingCache(PARTNERS_SETTING, _enabled, session_maker)
        )
        self._providers: dict[int, tuple[Sequence[PartnerEndpointRecord], SharedDataProvider]] = {}

    @staticmethod
    def _endpoint(cipher: TenantCipher, record: PartnerEndpointRecord) -> PartnerEndpoint:
        secret = cipher.decrypt(
            record.secret_cipher, context=partner_secret_context(cipher.tenant_code, record.partner)
        )
        return PartnerEndpoint(
            partner=record.partner,  # type: ignore[arg-type]
            base_url=record.base_url,
            app_key=record.app_key,
            secret=secret,
            timeout_seconds=record.timeout_seconds,
            retries=record.retries,
        )

    async def provider(self, session: AsyncSession, scope: TenantScope) -> SharedDataProvider:
        """``session`` is read only without a session maker of the directory's own (commands, tests)."""
        records = await (_enabled(session, scope) if self._configured is None else self._configured.get(scope))
        built = self._providers.get(scope.tenant_id)
        if built is not None and built[0] is records:
            return built[1]
        provider = self._build(records, await self.keys.cipher(scope, session) if records else None)
        self._providers[scope.tenant_id] = (records, provider)
        return provider

    def _build(self, records: Sequence[PartnerEndpointRecord], cipher: TenantCipher | None) -> SharedDataProvider:
        if not records or cipher is None:
            return NotConfiguredProvider()
        tenant_code = cipher.tenant_code
        configured: Mapping[str, PartnerEndpoint] = {r.partner: self._endpoint(cipher, r) for r in records}

        def client_for(partner: Partner | str):  # type: ignore[no-untyped-def]
            endpoint = configured.get(partner)
            return None if endpoint is None else self.pool.client(tenant_code, endpoint)

        return PartnerDataProvider(client_for)

    async def aclose(self) -> None:
        await self.pool.aclose()
