"""Case endpoints (/api/v1/cases…): the contract the UI and external checks build on."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.calendar.workdays import WorkingCalendar
from fuquan.platform.cases import services
from fuquan.platform.cases.models import CaseFile
from fuquan.platform.cases.repositories import CaseRepository
from fuquan.platform.cases.schemas import (
    CaseCreate,
    CasePage,
    CaseRead,
    ComplaintRead,
    ComplaintWrite,
    EventRead,
    EvidenceRead,
    ExtensionRequest,
    MaterialRequest,
    PublicProgress,
    RatingWrite,
    RevocationRequest,
    Signal,
    TransitionRequest,
)
from fuquan.platform.cases.services import public, reads
from fuquan.platform.cases.services.documents import print_document
from fuquan.platform.cases.state_machine import Status
from fuquan.platform.catalog.services import Catalog
from fuquan.platform.certificates import services as certificate_services
from fuquan.platform.certificates.schemas import CertificateRead
from fuquan.platform.core.errors import BadRequest, NotFound, ValidationFailed
from fuquan.platform.core.files import MAX_UPLOAD_BYTES, FileStore, sniff_upload
from fuquan.platform.core.params import MaterialIndex, Offset, RowId
from fuquan.platform.core.request_context import request_id_of
from fuquan.platform.core.validation_messages import in_chinese
from fuquan.tenants.divisions import normalise_unit_code
from fuquan.tenants.schemas import UnitCode

Limit = Annotated[int, QueryParameter(ge=1, le=200)]
MAX_SIGNAL_SCAN = 5000  # open cases examined for a signal filter
CLOCKED = (
    Status.ACCEPTED,
    Status.IN_REVIEW,
    Status.SUSPENDED,
    Status.CORRECTING,
)  # statuses whose deadline clock is running


async def _read(ctx: services.CaseContext, file: CaseFile) -> CaseRead:
    return await reads.file_read(ctx.session, ctx.actor, ctx.catalog, ctx.calendar, file)


async def provide_case_context(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    actor: NamedDependency[Actor],
    case_services: NamedDependency[services.CaseServices],
) -> services.CaseContext:
    """The case verbs' context (a request dependency; the API's and the pages' alike — a page controller's
    ``actor`` is the session's)."""
    return await case_services.context(db_session, actor, request_id_of(request))


class CaseController(Controller):
    path = "/api/v1/cases"
    tags = ["cases 办件"]

    @post("/", summary="收件：为居民新建办件", opt={"permission": "cases.create"})
    async def create_case(
        self,
        data: JSONBody[CaseCreate],
        case_context: NamedDependency[services.CaseContext],
        idempotency_key: Annotated[str | None, HeaderParameter(name="Idempotency-Key")] = None,
    ) -> Response[CaseRead]:
        if idempotency_key is not None and not 8 <= len(idempotency_key) <= 128:
            raise ValidationFailed("Idempotency-Key 应为 8 到 128 个字符", rule="idempotency_key")
        file, _created = await services.create_case(case_context, data, idempotency_key)
        return Response(await _read(case_context, file), status_code=201)

    @get("/", summary="我的办件队列", opt={"permission": "cases.read"})
    async def queue(
        self,
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        catalog: NamedDependency[Catalog],
        calendar: NamedDependency[WorkingCalendar],
        status: FromQuery[list[Status] | None] = None,
        unit: FromQuery[UnitCode | None] = None,
        item: FromQuery[str | None] = None,
        signal: FromQuery[Signal | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> CasePage:
        """Cases at or routed to units in the caller's subtree; ``signal`` filters on the deadline clock."""
        statuses = [s.value for s in status] if status else None
        unit = None if unit is None else normalise_unit_code(unit)
        repository = CaseRepository(db_session)
        if signal is None:
            rows, total = await repository.queue(
                actor.scope, statuses=statuses, unit=unit, item=item, limit=limit, offset=offset
            )
            return CasePage(
                items=await reads.case_reads(db_session, actor, catalog, calendar, rows),
                total=total,
                limit=limit,
                offset=offset,
            )
        # the signal depends on the working-day calendar, so it is computed, then paged
        open_statuses = [s.value for s in CLOCKED if not statuses or s.value in statuses]
        rows, _ = await repository.queue(
            actor.scope, statuses=open_statuses, unit=unit, item=item, limit=MAX_SIGNAL_SCAN, offset=0
        )
        matching = [
            read
            for read in await reads.case_reads(db_session, actor, catalog, calendar, rows)
            if read.timing.signal == signal
        ]
        return CasePage(items=matching[offset : offset + limit], total=len(matching), limit=limit, offset=offset)

    @get("/{case_id:int}", summary="办件详情", opt={"permission": "cases.read"})
    async def get_case(
        self,
        case_id: RowId,
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        catalog: NamedDependency[Catalog],
        calendar: NamedDependency[WorkingCalendar],
    ) -> CaseRead:
        case = await CaseRepository(db_session).get(actor.scope, case_id)
        return (await reads.case_reads(db_session, actor, catalog, calendar, [case]))[0]

    @get("/{case_id:int}/trace", summary="全程留痕", opt={"permission": "cases.read"})
    async def trace(
        self, case_id: RowId, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> list[EventRead]:
        repository = CaseRepository(db_session)
        case = await repository.get(actor.scope, case_id)
        return [reads.event_read(event) for event in await repository.events(case.id)]

    @get("/{case_id:int}/certificates", summary="电子证照（准予决定的签名记录）", opt={"permission": "cases.read"})
    async def certificates(
        self, case_id: RowId, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> list[CertificateRead]:
        case = await CaseRepository(db_session).get(actor.scope, case_id)
        return await certificate_services.of_case(db_session, actor.scope, case.id)

    @get("/{case_id:int}/evidence", summary="共享数据核验凭证", opt={"permission": "cases.read"})
    async def evidence(
        self, case_id: RowId, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> list[EvidenceRead]:
        """Every partner answer asked for this case, oldest first: source, service, time, request id,
        SM3 of request and response, and the facts used."""
        repository = CaseRepository(db_session)
        case = await repository.get(actor.scope, case_id)
        return [reads.evidence_read(row) for row in await repository.evidence(case.id)]

    @get("/{case_id:int}/materials/{index:int}/file", summary="材料：查看上传的照片或 PDF",
         media_type="application/octet-stream", opt={"permission": "cases.read"})  # fmt: skip
    async def material_file(
        self,
        case_id: RowId,
        index: MaterialIndex,
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        file_store: NamedDependency[FileStore],
    ) -> Response[bytes]:
        """The bytes the applicant's material was uploaded as (checked against its SHA-256 on the way out)."""
        repository = CaseRepository(db_session)
        case = await repository.get(actor.scope, case_id)
        material = next((m for m in (await repository.materials_of([case.id]))[case.id] if m.index == index), None)
        if material is None or material.file_key is None:
            raise NotFound(f"该办件的第 {index} 项材料没有上传的文件", rule="no_file")
        data = await file_store.get(material.file_key)
        headers = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
        return Response(data, media_type=material.content_type or "application/octet-stream", headers=headers)

    @post("/{case_id:int}/transitions", summary="办理一步（受理、审批、出件…）", status_code=200,
          opt={"permission": "cases.handle"})  # fmt: skip
    async def transition(
        self, case_id: RowId, data: JSONBody[TransitionRequest], case_context: NamedDependency[services.CaseContext]
    ) -> CaseRead:
        file = await services.transition(case_context, case_id, data.action, data.reason, data.version)
        return await _read(case_context, file)

    @post("/{case_id:int}/revocation", summary="撤销准予决定并注销电子证照（审批单位负责人，行政许可法第六十九条）",
          status_code=200, opt={"permission": "cases.revoke"})  # fmt: skip
    async def revocation(
        self, case_id: RowId, data: JSONBody[RevocationRequest], case_context: NamedDependency[services.CaseContext]
    ) -> CaseRead:
        file = await services.revoke_decision(case_context, case_id, data)
        return await _read(case_context, file)

    @post("/{case_id:int}/extension", summary="延长办理期限（审批单位负责人批准，行政许可法第四十二条）",
          status_code=200, opt={"permission": "cases.extend"})  # fmt: skip
    async def extension(
        self, case_id: RowId, data: JSONBody[ExtensionRequest], case_context: NamedDependency[services.CaseContext]
    ) -> CaseRead:
        """Once per case, by up to ten working days; the 延长办理期限告知书 then prints."""
        return await _read(case_context, await services.extend(case_context, case_id, data))

    @post("/{case_id:int}/materials/{index:int}", summary="材料：上传照片或 PDF、告知承诺或容缺", status_code=200,
          opt={"permission": "cases.handle"}, request_max_body_size=MAX_UPLOAD_BYTES + 256 * 1024)  # fmt: skip
    async def material(
        self,
        request: Request[Any, Any, Any],
        case_id: RowId,
        index: MaterialIndex,
        case_context: NamedDependency[services.CaseContext],
        file_store: NamedDependency[FileStore],
    ) -> CaseRead:
        """Multipart (field ``file``) uploads the material; JSON ``{pledge: true}`` or ``{defer_until}`` replaces it."""
        ctx = case_context
        if request.content_type[0] == "multipart/form-data":
            form = await request.form()
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise BadRequest("请在表单字段 file 中上传材料文件", rule="upload_missing")
            data = await upload.read()
            content_type = sniff_upload(data, upload.content_type, upload.filename, max_bytes=MAX_UPLOAD_BYTES)
            stored = await file_store.put(data, content_type=content_type)
            file = await services.attach_upload(ctx, case_id, index, msgspec.to_builtins(stored))
        else:
            try:
                body = msgspec.json.decode(await request.body(), type=MaterialRequest)
            except msgspec.DecodeError as error:
                raise BadRequest(f"请求内容不符合要求：{in_chinese(str(error))}", rule="body") from error
            file = await services.set_material(ctx, case_id, index, body)
        return await _read(ctx, file)


class RevealRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    purpose: Annotated[str, msgspec.Meta(min_length=4, max_length=256)]


class RevealedApplicant(msgspec.Struct, frozen=True):
    id_number: str
    name: str
    phone: str | None
    form: dict[str, Any] = msgspec.field(default_factory=dict)  # 申请表, personal values in full


class ApplicantRevealController(Controller):
    path = "/api/v1/cases/{case_id:int}/applicant/reveal"
    tags = ["cases 办件"]

    @post("/", summary="查看申请人完整身份信息（须说明用途，留痕）", status_code=200,
          opt={"permission": "applicants.reveal"})  # fmt: skip
    async def reveal(
        self,
        case_id: RowId,
        data: JSONBody[RevealRequest],
        case_context: NamedDependency[services.CaseContext],
    ) -> RevealedApplicant:
        revealed = await services.reveal_applicant(case_context, case_id, data.purpose)
        return msgspec.convert(revealed, RevealedApplicant)


class CaseDocumentController(Controller):
    path = "/api/v1/cases/{case_id:int}/documents"
    tags = ["cases 办件"]

    @get("/{document:str}", summary="回执与通知书（PDF）", media_type="application/pdf",
         opt={"permission": "cases.read"})  # fmt: skip
    async def document(
        self,
        request: Request[Any, Any, Any],
        case_id: RowId,
        document: FromPath[str],
        case_context: NamedDependency[services.CaseContext],
    ) -> Response[bytes]:
        printed = await print_document(case_context, case_id, document, str(request.base_url))
        disposition = f"inline; filename={printed.filename}"
        return Response(printed.pdf, media_type="application/pdf", headers={"Content-Disposition": disposition})


_PUBLIC = {"public": True, "exclude_from_auth": True}


class PublicCaseController(Controller):
    """The resident's side: progress by receipt number and query code, one rating (好差评) after issuance, and
    complaints (投诉)."""

    path = "/api/v1/public/cases"
    tags = ["public 公众查询"]

    @get("/{receipt_no:str}", summary="办件进度查询", opt=_PUBLIC)
    async def progress(
        self, receipt_no: FromPath[str], db_session: NamedDependency[AsyncSession], code: FromQuery[str] = ""
    ) -> PublicProgress:
        return await public.public_progress(db_session, receipt_no, code)

    @post("/{receipt_no:str}/rating", summary="好差评（出件后一次）", status_code=201, opt=_PUBLIC)
    async def rate(
        self, receipt_no: FromPath[str], data: JSONBody[RatingWrite], db_session: NamedDependency[AsyncSession]
    ) -> dict[str, str | bool]:
        rated = await public.rate_case(db_session, receipt_no, data)
        return {"rating": rated.name, "follow_up": rated.follow_up}

    @post("/{receipt_no:str}/complaints", summary="投诉（办理单位 1 个工作日内回访）", status_code=201, opt=_PUBLIC)
    async def complain(
        self, receipt_no: FromPath[str], data: JSONBody[ComplaintWrite], db_session: NamedDependency[AsyncSession]
    ) -> ComplaintRead:
        complained = await public.complain(db_session, receipt_no, data)
        return ComplaintRead(complaint=complained.seq, callback_due=complained.callback_due)
