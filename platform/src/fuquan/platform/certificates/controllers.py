"""/api/v1/public/certificates (电子证照核验, no login) and /api/v1/units/{code}/signing-keys (机关签名密钥)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.certificates import keys as organ_keys
from fuquan.platform.certificates import services
from fuquan.platform.certificates.repositories import OrganKeyRepository
from fuquan.platform.certificates.schemas import OrganKeyRead, VerificationRead
from fuquan.platform.core.errors import NotFound, RuleViolation
from fuquan.platform.core.keys.services import KeyRing
from fuquan.platform.core.request_context import request_id_of
from fuquan.platform.core.timeutil import utcnow
from fuquan.tenants.divisions import normalise_unit_code
from fuquan.tenants.organs import organ_of
from fuquan.tenants.repositories import UnitRepository
from fuquan.tenants.schemas import UnitCode
from fuquan.tenants.scope import TenantScope

_PUBLIC = {"public": True, "exclude_from_auth": True}
NOT_FOUND = "没有这个证照编号和核验码的电子证照：请对照证照上的编号和核验码再核对一遍"
MAX_FIELD = 64


class PublicCertificateController(Controller):
    path = "/api/v1/public/certificates"
    tags = ["public 公众查询"]

    @get("/{number:str}", summary="电子证照核验（编号与核验码）", opt=_PUBLIC)
    async def verify(
        self, number: FromPath[str], db_session: NamedDependency[AsyncSession], key_ring: NamedDependency[KeyRing],
        code: FromQuery[str] = "",
    ) -> VerificationRead:  # fmt: skip
        found = await services.verify(db_session, key_ring.cipher, number.strip()[:MAX_FIELD],
                                      code.strip().upper()[:MAX_FIELD])  # fmt: skip
        if found is None:
            raise NotFound(NOT_FOUND)
        return found


class OrganKeyController(Controller):
    path = "/api/v1/units/{code:str}/signing-keys"
    tags = ["units 单位"]

    @get("/", summary="机关的签名密钥（公钥与指纹）", opt={"permission": "units.read"})
    async def list_keys(
        self, code: FromPath[UnitCode], db_session: NamedDependency[AsyncSession],
        tenant_scope: NamedDependency[TenantScope],
    ) -> list[OrganKeyRead]:  # fmt: skip
        unit = await UnitRepository(db_session).get(tenant_scope, normalise_unit_code(code))
        found = await OrganKeyRepository(db_session).of_organ(tenant_scope, unit.code)
        return [services.organ_key_read(key) for key in found]

    @post("/rotation", summary="轮换机关签名密钥（旧密钥仍可核验其签发的证照）", status_code=201,
          opt={"permission": "seals.manage"})  # fmt: skip
    async def rotate(
        self, request: Request[Any, Any, Any], code: FromPath[UnitCode], db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor], key_ring: NamedDependency[KeyRing],
    ) -> OrganKeyRead:  # fmt: skip
        unit = await UnitRepository(db_session).get(actor.scope, normalise_unit_code(code))
        organ = organ_of(unit.code, unit.level, unit.name, unit.organ_name, unit.organ_kind)
        if not organ.administrative:
            raise RuleViolation(f"{organ.name}不是行政机关，不以自己名义作出决定，没有签名密钥", rule="not_an_organ")
        key = await organ_keys.rotate(db_session, key_ring.masters, actor.scope, unit.code,
                                      actor.username, utcnow(), request_id_of(request))  # fmt: skip
        return services.organ_key_read(key)
