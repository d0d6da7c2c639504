"""Case endpoints (/api/v1/cases…): the contract the UI and external checks build on."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.authority.registry import AuthorityRegistry
from fuquan.platform.accounts.actor import Actor
from fuquan.platform.cases import services
from fuquan.platform.cases.models import Case
from fuquan.platform.cases.repositories import ApplicantRepository, CaseRepository
from fuquan.platform.cases.schemas import CaseCreate, CasePage, CaseRead, EventRead, MaterialRequest, TransitionRequest
from fuquan.platform.cases.state_machine import Status
from fuquan.platform.catalog.services import Catalog
from fuquan.platform.core.errors import BadRequest, NotFound, ValidationFailed
from fuquan.platform.core.files import MAX_UPLOAD_BYTES, FileStore, sniff_upload
from fuquan.platform.core.personal import PersonalDataCipher
from fuquan.platform.core.timeutil import local_date, utcnow

Limit = Annotated[int, QueryParameter(ge=1, le=200)]
Offset = Annotated[int, QueryParameter(ge=0)]


def _request_id(request: Request[Any, Any, Any]) -> str | None:
    return request.scope.get("state", {}).get("request_id")


async def _reads(session: AsyncSession, actor: Actor, catalog: Catalog, cases: list[Case]) -> list[CaseRead]:
    """Case representations with materials, masked applicant and the clock — a handful of queries for any page."""
    repository = CaseRepository(session)
    ids = [case.id for case in cases]
    applicants = await ApplicantRepository(session).many([case.applicant_id for case in cases])
    materials = await repository.materials_of(ids)
    pauses = await repository.pauses(ids)
    calendar = await services.context_calendar(session, actor.tenant_id)
    tz = actor.scope.timezone
    today = local_date(utcnow(), tz)
    return [
        services.case_read(case, applicants[case.applicant_id], materials[case.id], pauses[case.id], catalog,
                           calendar, today, tz)
        for case in cases
    ]  # fmt: skip


class CaseController(Controller):
    path = "/api/v1/cases"
    tags = ["cases 办件"]

    def _context(
        self, request: Request[Any, Any, Any], session: AsyncSession, actor: Actor, catalog: Catalog,
        registry: AuthorityRegistry, cipher: PersonalDataCipher,
    ) -> services.CaseContext:  # fmt: skip
        return services.CaseContext(session, actor, catalog, registry, cipher, _request_id(request))

    @post("/", summary="收件：为居民新建办件", opt={"permission": "cases.create"})
    async def create_case(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[CaseCreate],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        catalog: NamedDependency[Catalog],
        authority_registry: NamedDependency[AuthorityRegistry],
        pii_cipher: NamedDependency[PersonalDataCipher],
        idempotency_key: Annotated[str | None, HeaderParameter(name="Idempotency-Key")] = None,
    ) -> Response[CaseRead]:
        if idempotency_key is not None and not 8 <= len(idempotency_key) <= 128:
            raise ValidationFailed("Idempotency-Key 应为 8 到 128 个字符", rule="idempotency_key")
        ctx = self._context(request, db_session, actor, catalog, authority_registry, pii_cipher)
        case, _created = await services.create_case(ctx, data, idempotency_key)
        return Response((await _reads(db_session, actor, catalog, [case]))[0], status_code=201)

    @get("/", summary="我的办件队列", opt={"permission": "cases.read"})
    async def queue(
        self,
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        catalog: NamedDependency[Catalog],
        status: FromQuery[list[Status] | None] = None,
        unit: FromQuery[str | None] = None,
        item: FromQuery[str | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> CasePage:
        statuses = [s.value for s in status] if status else None
        rows, total = await CaseRepository(db_session).queue(
            actor.scope, statuses=statuses, unit=unit, item=item, limit=limit, offset=offset
        )
        return CasePage(items=await _reads(db_session, actor, catalog, rows), total=total, limit=limit, offset=offset)

    @get("/{case_id:int}", summary="办件详情", opt={"permission": "cases.read"})
    async def get_case(
        self,
        case_id: FromPath[int],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        catalog: NamedDependency[Catalog],
    ) -> CaseRead:
        case = await CaseRepository(db_session).get(actor.scope, case_id)
        if case is None:
            raise NotFound(f"办件 #{case_id} 不存在或不在您的管辖范围内")
        return (await _reads(db_session, actor, catalog, [case]))[0]

    @get("/{case_id:int}/trace", summary="全程留痕", opt={"permission": "cases.read"})
    async def trace(
        self, case_id: FromPath[int], db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> list[EventRead]:
        repository = CaseRepository(db_session)
        case = await repository.get(actor.scope, case_id)
        if case is None:
            raise NotFound(f"办件 #{case_id} 不存在或不在您的管辖范围内")
        return [services.event_read(event) for event in await repository.events(case.id)]

    @post("/{case_id:int}/transitions", summary="办理一步（受理、审批、出件…）", status_code=200,
          opt={"permission": "cases.handle"})  # fmt: skip
    async def transition(
        self,
        request: Request[Any, Any, Any],
        case_id: FromPath[int],
        data: JSONBody[TransitionRequest],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        catalog: NamedDependency[Catalog],
        authority_registry: NamedDependency[AuthorityRegistry],
        pii_cipher: NamedDependency[PersonalDataCipher],
    ) -> CaseRead:
        ctx = self._context(request, db_session, actor, catalog, authority_registry, pii_cipher)
        calendar = await services.context_calendar(db_session, actor.tenant_id)
        case = await services.transition(ctx, case_id, data.action, data.reason, data.version, calendar)
        return (await _reads(db_session, actor, catalog, [case]))[0]

    @post("/{case_id:int}/materials/{index:int}", summary="材料：上传照片或 PDF、告知承诺或容缺", status_code=200,
          opt={"permission": "cases.handle"}, request_max_body_size=MAX_UPLOAD_BYTES + 256 * 1024)  # fmt: skip
    async def material(
        self,
        request: Request[Any, Any, Any],
        case_id: FromPath[int],
        index: FromPath[int],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        catalog: NamedDependency[Catalog],
        authority_registry: NamedDependency[AuthorityRegistry],
        pii_cipher: NamedDependency[PersonalDataCipher],
        file_store: NamedDependency[FileStore],
    ) -> CaseRead:
        """Multipart (field ``file``) uploads the material; JSON ``{pledge: true}`` or ``{defer_until}`` replaces it."""
        ctx = self._context(request, db_session, actor, catalog, authority_registry, pii_cipher)
        if request.content_type[0] == "multipart/form-data":
            form = await request.form()
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise BadRequest("请在表单字段 file 中上传材料文件", rule="upload_missing")
            data = await upload.read()
            content_type = sniff_upload(data, upload.content_type, upload.filename, max_bytes=MAX_UPLOAD_BYTES)
            stored = await file_store.put(data, content_type=content_type)
            case = await services.attach_upload(ctx, case_id, index, msgspec.to_builtins(stored))
        else:
            try:
                body = msgspec.json.decode(await request.body(), type=MaterialRequest)
            except msgspec.DecodeError as error:
                raise BadRequest(f"请求内容不符合要求：{error}", rule="body") from error
            calendar = await services.context_calendar(db_session, actor.tenant_id)
            case = await services.set_material(ctx, case_id, index, body, calendar)
        return (await _reads(db_session, actor, catalog, [case]))[0]
