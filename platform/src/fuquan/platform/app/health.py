"""GET /health (the process is alive) and GET /ready (it can reach its database, Redis and object store, and has
loaded every tenant's authority policy, so a load balancer sends it nothing it would have to wait for)."""

from __future__ import annotations

from typing import Any

import anyio
from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.authority.registry import AuthorityRegistry
from fuquan.platform.core.db import own_session
from fuquan.platform.core.files import FileStore
from fuquan.platform.core.object_files import FileStoreUnavailable, ObjectFileStore

_PUBLIC = {"public": True, "exclude_from_auth": True}
READY_STORE = "ready"  # a store of its own (in Redis when configured), only ever asked whether a key exists
REDIS_PROBE_SECONDS = 2.0
# its own answer, not a problem document: what is not reachable or still loading
_NOT_READY = {503: ResponseSpec(dict[str, str], description="未就绪：哪一项不可达或尚在加载", generate_examples=False)}


class HealthController(Controller):
    tags = ["ops 运维"]
    include_in_schema = True

    @get("/health", summary="存活检查", opt=_PUBLIC)
    async def health(self) -> dict[str, str]:
        return {"status": "ok"}

    @get("/ready", summary="就绪检查（数据库可达、赋权策略已加载）", opt=_PUBLIC, responses=_NOT_READY)
    async def ready(
        self,
        request: Request[Any, Any, Any],
        session_maker: NamedDependency[async_sessionmaker[AsyncSession]],
        authority_registry: NamedDependency[AuthorityRegistry],
        file_store: NamedDependency[FileStore],
    ) -> Response[Any]:
        try:
            async with own_session(session_maker, writes=False) as session:
                await session.execute(text("SELECT 1"))
        except Exception as error:  # any failure to reach the database means "not ready"
            return Response(
                {"status": "unavailable", "database": "unreachable", "error": type(error).__name__}, status_code=503
            )
        if request.app.state["settings"].redis_url:  # sessions, logins and limits live there when configured
            try:
                with anyio.fail_after(REDIS_PROBE_SECONDS):
                    await request.app.stores.get(READY_STORE).exists("probe")
            except Exception:  # unreachable, refusing or too slow: not ready
                return Response({"status": "unavailable", "database": "ok", "redis": "unreachable"}, status_code=503)
        if isinstance(file_store, ObjectFileStore):  # the embedded store is a local directory: nothing to reach
            try:
                await file_store.check()
            except FileStoreUnavailable:
                return Response({"status": "unavailable", "database": "ok", "files": "unreachable"}, status_code=503)
        if not authority_registry.primed:
            return Response({"status": "starting", "database": "ok", "policy": "loading"}, status_code=503)
        return Response({"status": "ready", "database": "ok", "policy": "loaded"})
