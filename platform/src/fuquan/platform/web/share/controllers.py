"""Web pages: 共享应用管理 — the system administrator registers partner departments' applications of the data-sharing
API (/api/share/v1), hands over their keys, suspends and resumes them, grants and revokes datasets, and reads their
latest calls.

The verbs are ``share.services``' own, audited in their transaction as the actor; a refused one is audited too and
shows the form again with the server's reason and status (422 a broken rule, 404 an unknown application or region,
409 a code taken). A new key's secret is on the answer to the form that issued it, once: no page shows it again, and
like every page it is sent ``Cache-Control: no-store`` (``app.headers``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Final

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.core.audit.services import AuditEntry, rejections_audited
from fuquan.platform.core.errors import BadRequest, FuquanError
from fuquan.platform.core.keys.services import KeyRing
from fuquan.platform.core.params import RowId
from fuquan.platform.core.request_context import request_id_of
from fuquan.platform.core.timeutil import local_date, local_time, utcnow
from fuquan.platform.share import services
from fuquan.platform.share.services.calllog import recent_calls
from fuquan.platform.web.pages import PageController, page, render
from fuquan.platform.web.share import views
from fuquan.platform.web.share.schemas import (
    DEFAULT_OVERLAP_HOURS,
    MAX_OVERLAP_HOURS,
    AppForm,
    GrantForm,
    ReasonForm,
    RotateForm,
    app_draft,
    app_errors,
    grant_draft,
    grant_errors,
    key_validity,
    reason_error,
    rotation,
    rotation_error,
)

FormBody = Body(media_type=RequestEncodingType.URL_ENCODED)
MANAGE: Final = page("share.manage")
PAGES: Final = "/share"
DONE: Final = {
    "suspended": "已暂停：该应用的全部密钥即刻停止使用，恢复后未过期的密钥可继续使用。",
    "resumed": "已恢复：该应用未过期的密钥可以继续调用。",
    "granted": "已授权：该应用即可按授权的用途和字段使用该数据集。",
    "revoked": "已撤销授权：即刻生效，授权记录保留备查。",
}
# which field a refused registration is about, so the reason shows beside it too
RULE_FIELDS: Final = {"share_app_code": "code", "share_app_exists": "code", "share_app_clients": "allowed_clients"}
GRANT_RULE_FIELDS: Final = {
    "share_dataset": "dataset", "share_purpose": "purposes", "share_field": "fields", "share_basis": "basis",
    "share_validity": "valid_until", "time_range": "valid_from",
}  # fmt: skip


def _app_path(code: str) -> str:
    return f"{PAGES}/apps/{code}"


def _form_page(actor: Actor, form: AppForm, *, errors: dict[str, str] | None = None,
               problem: FuquanError | None = None, status_code: int = 200) -> Template:  # fmt: skip
    errors = dict(errors or {})
    if problem is not None and problem.rule in RULE_FIELDS:
        errors.setdefault(RULE_FIELDS[problem.rule], problem.detail)
    return render("share/form.html", actor, status_code=status_code, form=form, errors=errors, problem=problem)


async def _app_page(
    session: AsyncSession,
    actor: Actor,
    code: str,
    *,
    done: str = "",
    dataset: str = "",
    form: GrantForm | None = None,
    errors: dict[str, str] | None = None,
    problem: FuquanError | None = None,
    status_code: int = 200,
) -> Template:
    """An application's page, loaded afresh (a refused attempt was rolled back): its keys, grants, the grant form
    for one dataset and the latest calls."""
    scope = actor.scope
    app = await views.app_view(session, scope, code)
    first = next(iter(views.DATASET_CHOICES.values()))  # a form posted with an unknown dataset: shown with the first
    if form is None:
        chosen = dataset.strip() or first.code
        if chosen not in views.DATASET_CHOICES:
            raise BadRequest("请选择列表中的数据集", rule="dataset")
        form = GrantForm(dataset=chosen, valid_from=local_date(utcnow(), scope.timezone).isoformat())
    return render(
        "share/app.html", actor, status_code=status_code, app=app, done=DONE.get(done), problem=problem,
        grants=await views.grant_views(session, scope, app.code), calls=await recent_calls(session, scope, app.code),
        datasets=views.DATASET_CHOICES, chosen=views.DATASET_CHOICES.get(form.dataset, first), form=form,
        errors=errors or {},
        default_overlap=DEFAULT_OVERLAP_HOURS, max_overlap=MAX_OVERLAP_HOURS,
    )  # fmt: skip


def _grant_field(problem: FuquanError) -> str | None:
    """The grant form's field a refused grant is about (a region the tenant does not have: 404 without a rule)."""
    if problem.status == 404 and problem.rule is None:
        return "region"
    return GRANT_RULE_FIELDS.get(problem.rule or "")


def _entry(actor: Actor, request: Request[Any, Any, Any], action: str, code: str, **detail: object) -> AuditEntry:
    """The record of a refused attempt (the service records the done one)."""
    resource = f"share_app:{code[: views.MAX_CODE]}"
    return actor.audit_entry(action, resource=resource, request_id=request_id_of(request), detail=dict(detail))


def _issued(actor: Actor, app: views.AppView, issued: services.IssuedKey, *, first: bool) -> Template:
    """The one page that shows a key's secret."""
    expires = local_time(issued.expires_at, actor.scope.timezone)
    return render("share/issued.html", actor, app=app, issued=issued, expires=expires, first=first)


class SharePagesController(PageController):
    path = PAGES

    @get("/", opt=MANAGE)
    async def app_list(self, db_session: NamedDependency[AsyncSession], page_actor: NamedDependency[Actor]) -> Template:
        return render("share/list.html", page_actor, apps=await views.app_views(db_session, page_actor.scope))

    @get("/new", opt=MANAGE)
    async def new_app(self, page_actor: NamedDependency[Actor]) -> Template:
        return _form_page(page_actor, AppForm())

    @post("/", opt=MANAGE, status_code=200)
    async def register_app(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[AppForm, FormBody],
        db_session: NamedDependency[AsyncSession],
        page_actor: NamedDependency[Actor],
        key_ring: NamedDependency[KeyRing],
    ) -> Template:
        form = data.cleaned()
        errors = app_errors(form)
        if errors:
            return _form_page(page_actor, form, errors=errors, status_code=400)
        scope = page_actor.scope
        entry = _entry(page_actor, request, "share.app_registered", form.code, name=form.name[:64])
        try:
            async with rejections_audited(db_session, entry):
                app, issued = await services.register(
                    db_session, key_ring, scope, app_draft(form), by=page_actor,
                    key_expires_in=key_validity(form.key_days),
                )  # fmt: skip
        except FuquanError as problem:  # audited and committed; the form again with the reason
            return _form_page(page_actor, form, problem=problem, status_code=problem.status)
        return _issued(page_actor, await views.app_view(db_session, scope, app.code), issued, first=True)

    @get("/apps/{code:str}", opt=MANAGE)
    async def app_page(
        self,
        code: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        page_actor: NamedDependency[Actor],
        done: FromQuery[str] = "",
        dataset: FromQuery[str] = "",
    ) -> Template:
        return await _app_page(db_session, page_actor, code, done=done, dataset=dataset)

    async def _act(
        self, session: AsyncSession, actor: Actor, code: str, entry: AuditEntry, work: Callable[[], Awaitable[object]],
        done: str,
    ) -> Template | Redirect:  # fmt: skip
        """One change to an application: a refusal audited and shown on its page with its status."""
        try:
            async with rejections_audited(session, entry):
                await work()
        except FuquanError as problem:
            return await _app_page(session, actor, code, problem=problem, status_code=problem.status)
        return Redirect(f"{_app_path(code)}?done={done}", status_code=303)

    @post("/apps/{code:str}/rotate", opt=MANAGE, status_code=200)
    async def rotate_key(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: Annotated[RotateForm, FormBody],
        db_session: NamedDependency[AsyncSession],
        page_actor: NamedDependency[Actor],
        key_ring: NamedDependency[KeyRing],
    ) -> Template:
        scope = page_actor.scope
        wrong = rotation_error(data)
        if wrong is not None:
            problem = BadRequest(wrong, rule="share_key_form")
            return await _app_page(db_session, page_actor, code, problem=problem, status_code=400)
        overlap, expires = rotation(data)
        hours = int(overlap.total_seconds()) // 3600
        entry = _entry(page_actor, request, "share.key_rotated", code, overlap_hours=hours)
        try:
            async with rejections_audited(db_session, entry):
                issued = await services.rotate_key(
                    db_session, key_ring, scope, code, by=page_actor, overlap=overlap, key_expires_in=expires
                )
        except FuquanError as problem:
            return await _app_page(db_session, page_actor, code, problem=problem, status_code=problem.status)
        return _issued(page_actor, await views.app_view(db_session, scope, code), issued, first=False)

    @post("/apps/{code:str}/suspend", opt=MANAGE)
    async def suspend(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: Annotated[ReasonForm, FormBody],
        db_session: NamedDependency[AsyncSession],
        page_actor: NamedDependency[Actor],
    ) -> Template | Redirect:
        reason, wrong = data.reason.strip(), reason_error(data)
        if wrong is not None:
            problem = BadRequest(wrong, rule="share_reason")
            return await _app_page(db_session, page_actor, code, problem=problem, status_code=400)
        entry = _entry(page_actor, request, "share.app_suspended", code, reason=reason)

        async def work() -> object:
            return await services.suspend(db_session, page_actor.scope, code, reason=reason, by=page_actor)

        return await self._act(db_session, page_actor, code, entry, work, "suspended")

    @post("/apps/{code:str}/resume", opt=MANAGE)
    async def resume(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        page_actor: NamedDependency[Actor],
    ) -> Template | Redirect:
        entry = _entry(page_actor, request, "share.app_resumed", code)

        async def work() -> object:
            return await services.resume(db_session, page_actor.scope, code, by=page_actor)

        return await self._act(db_session, page_actor, code, entry, work, "resumed")

    @post("/apps/{code:str}/grants", opt=MANAGE)
    async def add_grant(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: Annotated[GrantForm, FormBody],
        db_session: NamedDependency[AsyncSession],
        page_actor: NamedDependency[Actor],
    ) -> Template | Redirect:
        form = data.cleaned()
        errors = grant_errors(form, set(views.DATASET_CHOICES))
        if errors:
            return await _app_page(db_session, page_actor, code, form=form, errors=errors, status_code=400)
        draft = grant_draft(form)
        entry = _entry(page_actor, request, "share.grant_added", code, dataset=draft.dataset[:64])
        try:
            async with rejections_audited(db_session, entry):
                await services.grant(db_session, page_actor.scope, code, draft, by=page_actor)
        except FuquanError as problem:  # the grant form again, as filled in, with the reason beside its field
            field = _grant_field(problem)
            errors = {} if field is None else {field: problem.detail}
            return await _app_page(
                db_session, page_actor, code, form=form, errors=errors, problem=problem, status_code=problem.status
            )
        return Redirect(f"{_app_path(code)}?done=granted", status_code=303)

    @post("/apps/{code:str}/grants/{grant_id:int}/revoke", opt=MANAGE)
    async def revoke_grant(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        grant_id: RowId,
        data: Annotated[ReasonForm, FormBody],
        db_session: NamedDependency[AsyncSession],
        page_actor: NamedDependency[Actor],
    ) -> Template | Redirect:
        reason, wrong = data.reason.strip(), reason_error(data)
        if wrong is not None:
            problem = BadRequest(wrong, rule="share_reason")
            return await _app_page(db_session, page_actor, code, problem=problem, status_code=400)
        entry = _entry(page_actor, request, "share.grant_revoked", code, grant_id=grant_id, reason=reason)

        async def work() -> object:
            scope = page_actor.scope
            return await services.revoke_grant(db_session, scope, code, grant_id, reason=reason, by=page_actor)

        return await self._act(db_session, page_actor, code, entry, work, "revoked")
