"""All SQL of the data-sharing applications and their keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.core.db import conflict_insert
from fuquan.platform.share.models import ShareApp, ShareGrant, ShareKey, ShareNonce
from fuquan.tenants.scope import TenantScope


class ShareAppRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, app: ShareApp) -> ShareApp:
        self.session.add(app)
        await self.session.flush()
        return app

    async def by_code(self, scope: TenantScope, code: str, *, lock: bool = False) -> ShareApp | None:
        query = select(ShareApp).where(ShareApp.tenant_id == scope.tenant_id, ShareApp.code == code)
        if lock:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def all(self, scope: TenantScope) -> list[ShareApp]:
        return list(
            await self.session.scalars(
                select(ShareApp).where(ShareApp.tenant_id == scope.tenant_id).order_by(ShareApp.code)
            )
        )

    async def flush(self) -> None:
        await self.session.flush()


class ShareKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, key: ShareKey) -> ShareKey:
        self.session.add(key)
        await self.session.flush()
        return key

    async def of_apps(self, app_ids: list[int]) -> list[ShareKey]:
        """The keys of these applications, oldest first, in one query."""
        if not app_ids:
            return []
        query = select(ShareKey).where(ShareKey.app_id.in_(app_ids)).order_by(ShareKey.id)
        return list(await self.session.scalars(query))

    async def expire_live(self, app_id: int, now: datetime, at: datetime) -> int:
        """Every key of the app still valid at ``now`` stops at ``at`` (rotation's overlap); returns how many."""
        live = (ShareKey.expires_at.is_(None)) | (ShareKey.expires_at > at)
        result = await self.session.execute(
            update(ShareKey).where(ShareKey.app_id == app_id, live).values(expires_at=at)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        return int(getattr(result, "rowcount", 0) or 0)

    async def with_app(self, key_id: str) -> tuple[ShareKey, ShareApp] | None:
        """The key with this id and its application, in whichever tenant (the key id finds the tenant)."""
        row = (
            await self.session.execute(
                select(ShareKey, ShareApp)
                .join(ShareApp, ShareApp.id == ShareKey.app_id)
                .where(ShareKey.key_id == key_id)
            )
        ).first()
        return None if row is None else (row[0], row[1])


class ShareGrantRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, grant: ShareGrant) -> ShareGrant:
        self.session.add(grant)
        await self.session.flush()
        return grant

    async def of_app(self, app_id: int) -> list[ShareGrant]:
        return list(
            await self.session.scalars(select(ShareGrant).where(ShareGrant.app_id == app_id).order_by(ShareGrant.id))
        )

    async def get(self, app_id: int, grant_id: int, *, lock: bool = False) -> ShareGrant | None:
        query = select(ShareGrant).where(ShareGrant.app_id == app_id, ShareGrant.id == grant_id)
        if lock:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def in_force(self, app_id: int, dataset: str, now: datetime) -> list[ShareGrant]:
        """The app's unrevoked grants of ``dataset`` valid at ``now``."""
        return list(
            await self.session.scalars(
                select(ShareGrant).where(
                    ShareGrant.app_id == app_id, ShareGrant.dataset == dataset, ShareGrant.revoked_at.is_(None),
                    ShareGrant.valid_from <= now,
                    (ShareGrant.valid_until.is_(None)) | (ShareGrant.valid_until > now),
                ).order_by(ShareGrant.id)
            )
        )  # fmt: skip


class ShareNonceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def use(self, key_id: str, nonce: str, at: datetime) -> bool:
        """Insert the pair: True for the one call whose insert lands, False for a replay (any replica's)."""
        insert = conflict_insert(self.session, ShareNonce).values(key_id=key_id, nonce=nonce, seen_at=at)
        return await self.session.scalar(insert.on_conflict_do_nothing().returning(ShareNonce.key_id)) is not None

    async def forget_before(self, cutoff: datetime) -> int:
        result = await self.session.execute(
            delete(ShareNonce).where(ShareNonce.seen_at < cutoff).execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)
