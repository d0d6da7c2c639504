"""Web pages: the case page (办件详情) — deadline, applicant, materials with evidence, the trace — and its forms.

Every step is posted as a plain form (POST-redirect-GET); a step the server refuses re-renders the
page with the server's own message and status code, nothing written. Revealing the applicant's
full identity needs a purpose, is audited, and is answered with a page (never a redirect carrying
personal data in its address).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.orm.exc import StaleDataError

from fuquan.platform.cases import services
from fuquan.platform.cases.schemas import ExtensionRequest, RevocationRequest
from fuquan.platform.cases.services.documents import print_document
from fuquan.platform.cases.state_machine import ACTION_NAMES, Action
from fuquan.platform.core.errors import Conflict, FuquanError, NotFound, ValidationFailed
from fuquan.platform.core.params import RowId
from fuquan.platform.core.personal import readable_text, reveal_purpose
from fuquan.platform.web.case.schemas import ActionForm, ExtensionForm, RevealForm, RevocationForm
from fuquan.platform.web.case.views import case_page, compose_reason
from fuquan.platform.web.pages import PageController, page, render

DONE = {action.value: action for action in Action}
# a head's step from its form: what the form becomes, the verb, and the ``done`` the page then says
HEAD_FORMS: dict[str, tuple[type[Any], Any, str]] = {
    "extension": (ExtensionRequest, services.extend, "extend"),
    "revocation": (RevocationRequest, services.revoke_decision, "revoke"),
}
NO_STORE = {"Cache-Control": "no-store"}  # a page showing a full identity is never cached


def case_url(case_id: int) -> str:
    return f"/cases/{case_id}"


def _refusal(error: Exception, invalid: str = "") -> FuquanError:
    """Why a step on the case page was refused: the service's reason, a concurrent change (the version check at
    the flush), or the form's fields not fitting the request."""
    if isinstance(error, FuquanError):
        return error
    if isinstance(error, StaleDataError):
        return Conflict("办件已被他人更新，请刷新后重试")
    return ValidationFailed(invalid)


class CasePagesController(PageController):
    path = "/cases"

    async def _page(
        self, ctx: services.CaseContext, case_id: int, *, status_code: int = 200, **context: Any
    ) -> Template:
        view = await case_page(ctx, case_id, revealed=context.pop("revealed", None))
        return render("case/page.html", ctx.actor, status_code=status_code, view=view, **context)

    @get("/{case_id:int}", opt=page("cases.read"))
    async def show(
        self,
        case_id: RowId,
        case_context: NamedDependency[services.CaseContext],
        done: FromQuery[str] = "",
    ) -> Template:
        """办件详情; ``done`` names the step just taken (after the redirect), for the confirmation line."""
        message = f"已完成“{ACTION_NAMES[DONE[done]]}”。" if done in DONE else None
        if done == "extend":
            message = "已延长办理期限。请打印《延长办理期限告知书》交申请人（或通过其预留的联系方式告知理由）。"
        elif done == "revoke":
            message = "已撤销准予决定，电子证照同时注销；核验页面即刻显示“已注销”。"
        return await self._page(case_context, case_id, message=message)

    @post("/{case_id:int}/actions", opt=page("cases.handle"))
    async def act(
        self,
        case_id: RowId,
        data: Annotated[ActionForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
        case_context: NamedDependency[services.CaseContext],
    ) -> Template | Redirect:
        ctx = case_context
        try:
            reason = compose_reason(data.action, data.reason, data.material_list, data.procedure, data.expected_days)
            await services.transition(ctx, case_id, data.action, reason, data.version)
        except NotFound:
            raise  # another subtree's or tenant's case: the 404 page, exactly like a missing one
        except (FuquanError, StaleDataError) as error:
            refused = _refusal(error)
            await ctx.session.rollback()  # nothing of a refused step is kept
            return await self._page(ctx, case_id, status_code=refused.status, error=refused.detail, failed=data)
        return Redirect(f"{case_url(case_id)}?done={data.action.value}", status_code=303)

    @post("/{case_id:int}/extension", opt=page("cases.extend"))
    async def extend(
        self,
        case_id: RowId,
        data: Annotated[ExtensionForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
        case_context: NamedDependency[services.CaseContext],
    ) -> Template | Redirect:
        """延长办理期限: the head's step; a refused one shows the page again with the reason and what was typed."""
        fields = {"days": data.days.strip(), "reason": data.reason.strip(), "version": data.version}
        return await self._head_step(case_context, case_id, "extension", data, fields,
                                     "请填写 1 到 10 之间的工作日数，理由至少 4 个字")  # fmt: skip

    @post("/{case_id:int}/revocation", opt=page("cases.revoke"))
    async def revoke(
        self,
        case_id: RowId,
        data: Annotated[RevocationForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
        case_context: NamedDependency[services.CaseContext],
    ) -> Template | Redirect:
        """撤销准予决定: the head's step; the certificate is revoked with it."""
        fields = {"reason": data.reason.strip(), "version": data.version}
        return await self._head_step(case_context, case_id, "revocation", data, fields,
                                     "请写明撤销的理由和依据（至少 4 个字）")  # fmt: skip

    async def _head_step(
        self, ctx: services.CaseContext, case_id: int, step: str, form: Any, fields: dict[str, Any], invalid: str
    ) -> Template | Redirect:
        """A head's own step (延期, 撤销) from its form: done, or the page again with the reason and what was typed
        (``{step}_error`` and ``{step}`` in the template)."""
        request_type, verb, done = HEAD_FORMS[step]
        try:
            await verb(ctx, case_id, msgspec.convert(fields, request_type, strict=False))
        except NotFound:
            raise
        except (FuquanError, StaleDataError, msgspec.ValidationError) as error:
            refused = _refusal(error, invalid=invalid)
            await ctx.session.rollback()
            return await self._page(ctx, case_id, status_code=refused.status,
                                    **{f"{step}_error": refused.detail, step: form})  # fmt: skip
        return Redirect(f"{case_url(case_id)}?done={done}", status_code=303)

    @post("/{case_id:int}/reveal", opt=page("applicants.reveal"))
    async def reveal(
        self,
        case_id: RowId,
        data: Annotated[RevealForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
        case_context: NamedDependency[services.CaseContext],
    ) -> Template:
        """查看完整身份信息: audited with its purpose; the answer is this page, not a redirect."""
        try:
            purpose = reveal_purpose(data.purpose)
        except ValidationFailed as problem:
            return await self._page(
                case_context, case_id, status_code=422, reveal_error=f"{problem.detail}。",
                purpose=readable_text(data.purpose),
            )  # fmt: skip
        revealed = await services.reveal_applicant(case_context, case_id, purpose)
        response = await self._page(case_context, case_id, revealed=revealed, purpose=purpose)
        response.headers.update(NO_STORE)
        return response

    @get("/{case_id:int}/documents/{document:str}", opt=page("cases.read"), media_type="application/pdf")
    async def document(
        self,
        request: Request[Any, Any, Any],
        case_id: RowId,
        document: FromPath[str],
        case_context: NamedDependency[services.CaseContext],
    ) -> Response[bytes]:
        """回执与通知书: the API's PDFs, inline so the desk prints them from the browser."""
        printed = await print_document(case_context, case_id, document, str(request.base_url))
        headers = {"Content-Disposition": f"inline; filename={printed.filename}"}
        return Response(printed.pdf, media_type="application/pdf", headers=headers)
