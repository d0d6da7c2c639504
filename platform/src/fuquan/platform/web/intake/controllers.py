"""Web pages: 收件（网格员、代办员）, designed for a phone.

What I may accept here and why, my tasks; a new case: choose an item → the resident's ID number and
name → the materials shared data satisfied (source and time) or still needed → photo, pledge or
deferral → submit → receipt with a QR code. Plain forms with POST-redirect-GET; htmx only swaps the
page's main part in place (an upload without a full reload).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from fuquan.authority.registry import AuthorityRegistry
from fuquan.platform.accounts.actor import Actor
from fuquan.platform.cases import services as cases
from fuquan.platform.cases.schemas import MaterialRequest
from fuquan.platform.cases.services.partners import worth_asking_again
from fuquan.platform.cases.services.reads import case_materials
from fuquan.platform.cases.state_machine import Action, Status
from fuquan.platform.catalog.models import CatalogItem
from fuquan.platform.catalog.services import Catalog
from fuquan.platform.core.errors import Conflict, FuquanError, PermissionDenied, RuleViolation, ValidationFailed
from fuquan.platform.core.files import MAX_UPLOAD_BYTES, FileStore, sniff_upload
from fuquan.platform.core.params import MaterialIndex, RowId
from fuquan.platform.web.forms import whole_number
from fuquan.platform.web.intake import views
from fuquan.platform.web.intake.schemas import MaterialForm, NewCaseForm, SubmitForm
from fuquan.platform.web.pages import PageController, error_page, page, render
from fuquan.tenants.services import get_unit

CREATE = "cases.create"
NO_STORE = {"Cache-Control": "no-store"}  # pages with a resident's details are never cached


def _stale_page(request: Request[Any, Any, Any], _error: StaleDataError) -> Response[Any]:
    """Someone else changed the case between our read and our write (optimistic locking)."""
    return error_page(request, Conflict("办件刚被他人更新，请返回办件页刷新后重试", rule="stale_version"))


def _key(value: str) -> str | None:
    key = value.strip()
    return key if 8 <= len(key) <= 128 else None


class IntakeController(PageController):
    path = "/intake"
    exception_handlers = {**PageController.exception_handlers, StaleDataError: _stale_page}

    # ---- what I may accept here, my tasks ------------------------------------------------------

    @get("/", opt=page(CREATE))
    async def index(
        self,
        db_session: NamedDependency[AsyncSession],
        authority_registry: NamedDependency[AuthorityRegistry],
        page_actor: NamedDependency[Actor],
        catalog: NamedDependency[Catalog],
    ) -> Template:
        unit = await get_unit(db_session, page_actor.scope, page_actor.unit_code)
        return render(
            "intake/index.html", page_actor, unit=unit,
            items=await views.acceptable(db_session, authority_registry, page_actor, catalog),
            tasks=await views.tasks(db_session, page_actor, catalog),
        )  # fmt: skip

    # ---- a new case ----------------------------------------------------------------------------

    @get("/new", opt=page(CREATE))
    async def choose(
        self,
        db_session: NamedDependency[AsyncSession],
        authority_registry: NamedDependency[AuthorityRegistry],
        page_actor: NamedDependency[Actor],
        catalog: NamedDependency[Catalog],
        item: FromQuery[str] = "",
    ) -> Template | Redirect:
        if item.strip():
            return Redirect(f"/intake/new/{catalog.get(item.strip()).code}", status_code=303)
        items = await views.acceptable(db_session, authority_registry, page_actor, catalog)
        return render("intake/choose.html", page_actor, items=items)

    @get("/new/{item:str}", opt=page(CREATE))
    async def form(
        self,
        item: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        authority_registry: NamedDependency[AuthorityRegistry],
        page_actor: NamedDependency[Actor],
        catalog: NamedDependency[Catalog],
    ) -> Template:
        catalog_item = catalog.get(item)
        reason = await views.refusal_reason(db_session, authority_registry, page_actor, catalog, catalog_item)
        if reason is not None:
            raise PermissionDenied(reason, rule="unit_authority")
        return self._form(page_actor, catalog_item, NewCaseForm(idempotency_key=str(uuid.uuid4())))

    def _form(
        self,
        actor: Actor,
        item: CatalogItem,
        form: NewCaseForm,
        values: dict[str, str] | None = None,
        error: FuquanError | None = None,
    ) -> Template:
        return Template(
            "intake/form.html",
            context={"user": actor, "item": item, "form": form, "fields": views.subject_fields(item),
                     "form_fields": views.form_fields(item), "values": values or {},
                     "error": None if error is None else error.detail,
                     "error_where": None if error is None else error.extra.get("where")},
            status_code=200 if error is None else error.status, headers=NO_STORE,
        )  # fmt: skip

    @post("/new/{item:str}", opt=page(CREATE))
    async def create(
        self,
        request: Request[Any, Any, Any],
        item: FromPath[str],
        data: Annotated[NewCaseForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
        db_session: NamedDependency[AsyncSession],
        authority_registry: NamedDependency[AuthorityRegistry],
        case_context: NamedDependency[cases.CaseContext],
        page_actor: NamedDependency[Actor],
        catalog: NamedDependency[Catalog],
    ) -> Template | Redirect:
        catalog_item = catalog.get(item)
        values = views.form_values(await request.form())
        try:
            reason = await views.refusal_reason(db_session, authority_registry, page_actor, catalog, catalog_item)
            if reason is not None:
                raise PermissionDenied(reason, rule="unit_authority")
            body = views.case_request(catalog_item, page_actor, data, values)
            file, _created = await cases.create_case(case_context, body, _key(data.idempotency_key))
        except FuquanError as error:  # nothing is written: a 4xx answer rolls the request's transaction back
            if error.rule == "idempotency_key_reused":  # the same form sent again with other contents
                data = msgspec.structs.replace(data, idempotency_key=str(uuid.uuid4()))
            return self._form(page_actor, catalog_item, data, values, error)
        return Redirect(f"/intake/{file.case.id}", status_code=303)

    # ---- one case at my desk -------------------------------------------------------------------

    async def _case_page(self, ctx: cases.CaseContext, case_id: int, error: FuquanError | None = None) -> Template:
        case = await views.own_case(ctx.session, ctx.actor, case_id)
        view = await views.case_view(ctx, case)
        return Template(
            "intake/case.html",
            context={"user": ctx.actor, "view": view, "error": None if error is None else error.detail},
            status_code=200 if error is None else error.status,
            headers=NO_STORE,
        )

    async def _refused(self, ctx: cases.CaseContext, case_id: int, error: FuquanError) -> Template:
        """The case page as it stands, with why the change was refused: nothing of the change is kept
        (rolled back here so the page does not show half of it; the 4xx answer would roll it back anyway)."""
        await ctx.session.rollback()
        return await self._case_page(ctx, case_id, error)

    @get("/{case_id:int}", opt=page(CREATE))
    async def case_page(
        self,
        case_id: RowId,
        case_context: NamedDependency[cases.CaseContext],
    ) -> Template:
        return await self._case_page(case_context, case_id)

    @post("/{case_id:int}/materials/{index:int}", opt=page(CREATE),
          request_max_body_size=MAX_UPLOAD_BYTES + 256 * 1024)  # fmt: skip
    async def material(
        self,
        request: Request[Any, Any, Any],
        case_id: RowId,
        index: MaterialIndex,
        db_session: NamedDependency[AsyncSession],
        case_context: NamedDependency[cases.CaseContext],
        file_store: NamedDependency[FileStore],
        page_actor: NamedDependency[Actor],
        catalog: NamedDependency[Catalog],
    ) -> Template | Redirect:
        """A photo or PDF of the material (multipart field ``file``), or 告知承诺 / 容缺 in its place."""
        await views.own_case(db_session, page_actor, case_id)
        ctx = case_context
        form = await request.form()
        try:
            upload = form.get("file")
            if request.content_type[0] == RequestEncodingType.MULTI_PART:
                if not isinstance(upload, UploadFile) or not upload.filename:
                    raise ValidationFailed("请先拍照或选择要上传的材料文件", rule="upload_missing")
                content = await upload.read()
                content_type = sniff_upload(content, upload.content_type, upload.filename, max_bytes=MAX_UPLOAD_BYTES)
                stored = await file_store.put(content, content_type=content_type)
                await cases.attach_upload(ctx, case_id, index, msgspec.to_builtins(stored))
            else:
                choice = msgspec.convert(
                    {k: v for k, v in form.items() if k in ("choice", "defer_until")}, MaterialForm
                )
                await cases.set_material(ctx, case_id, index, _material_request(choice))
        except FuquanError as error:
            return await self._refused(ctx, case_id, error)
        return Redirect(f"/intake/{case_id}", status_code=303)

    @post("/{case_id:int}/submit", opt=page(CREATE))
    async def submit(
        self,
        case_id: RowId,
        data: Annotated[SubmitForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
        db_session: NamedDependency[AsyncSession],
        case_context: NamedDependency[cases.CaseContext],
        page_actor: NamedDependency[Actor],
        catalog: NamedDependency[Catalog],
    ) -> Template | Redirect:
        case = await views.own_case(db_session, page_actor, case_id)
        receipt = Redirect(f"/intake/{case_id}/receipt", status_code=303)
        if case.status == Status.SUBMITTED:  # a double tap: the first one already submitted it
            return receipt
        try:
            action = Action.RESUBMIT if case.status == Status.AWAITING_SUPPLEMENT else Action.SUBMIT
            version = whole_number(data.version) or 0
            if version < 1:
                raise ValidationFailed("页面缺少办件版本号，请刷新办件页后重新提交", rule="version")
            await _require_materials(db_session, catalog, case.id, case.item_code, asked=False)
            await cases.transition(case_context, case_id, action, None, version)
            # partners down at creation were asked again; what they still could not supply stops the submission
            await _require_materials(db_session, catalog, case_id, case.item_code, asked=True)
        except FuquanError as error:
            return await self._refused(case_context, case_id, error)
        return receipt

    @get("/{case_id:int}/receipt", opt=page(CREATE))
    async def receipt(
        self,
        request: Request[Any, Any, Any],
        case_id: RowId,
        case_context: NamedDependency[cases.CaseContext],
        page_actor: NamedDependency[Actor],
    ) -> Template | Redirect:
        case = await views.own_case(case_context.session, page_actor, case_id)
        if case.status == Status.DRAFT:  # nothing handed in yet: back to the materials
            return Redirect(f"/intake/{case_id}", status_code=303)
        view = await views.case_view(case_context, case)
        return Template(
            "intake/receipt.html",
            context={"user": page_actor, "receipt": views.receipt(request, view, case)},
            headers=NO_STORE,
        )


def _material_request(form: MaterialForm) -> MaterialRequest:
    if form.choice == "pledge":
        return MaterialRequest(pledge=True)
    if form.choice == "defer":
        try:
            return msgspec.convert({"defer_until": form.defer_until.strip()}, MaterialRequest)
        except msgspec.ValidationError as error:
            raise ValidationFailed("请选择容缺材料的承诺补交日期", rule="deferral_date") from error
    raise ValidationFailed("请选择告知承诺或容缺受理", rule="material_choice")


async def _require_materials(
    session: AsyncSession, catalog: Catalog, case_id: int, item_code: str, *, asked: bool
) -> None:
    """Only a case with every required material in hand goes on to the front desk. Before asking the
    partners again, only materials no partner could still supply count as missing."""
    item = catalog.get(item_code)
    rows = await case_materials(session, case_id)
    missing = [m for m in rows if m.required and m.state == "missing"]
    if not asked:
        missing = [m for m in missing if not worth_asking_again(item, m)]
    if missing:
        names = "、".join(m.name for m in missing)
        hint = (
            "共享数据仍无法取得，请稍后重试或上传纸质材料照片"
            if asked
            else "请上传照片，或在允许时选择告知承诺、容缺受理"
        )
        raise RuleViolation(f"以下必需材料仍缺：{names}。{hint}", rule="materials_missing")
