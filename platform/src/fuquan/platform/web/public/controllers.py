"""Public pages (no login): 办件进度查询 by 受理编号 and 查询码, 好差评 after issuance, and 电子证照核验.

Every path stays under ``/progress``: the app throttles those per client, because a query code can be
guessed. A lookup is a POST answered with the page itself, never a redirect, so the query code never
appears in a URL, a log line or a browser history; the pages carrying it are not cached.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get, post
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.certificates import services as certificates
from fuquan.platform.core.errors import Conflict, FuquanError, NotFound
from fuquan.platform.core.keys.services import KeyRing
from fuquan.platform.core.timeutil import local_time
from fuquan.platform.documents.wording import fmt_date
from fuquan.platform.escalations.services import reads as escalation_reads
from fuquan.platform.web.pages import OPEN, PageController, render
from fuquan.platform.web.public import views
from fuquan.platform.web.public.schemas import ComplaintForm, LookupForm, RatingForm

NO_STORE = CacheControlHeader(no_store=True)  # the result pages hold the query code in hidden fields
FORM = "public/lookup.html"
RESULT = "public/progress.html"
MISSING = "请填写受理编号和查询码，两项都在您的回执上。"
VERIFY_MISSING = "请填写证照编号和核验码，两项都印在办理结果通知书的“电子证照”一栏"
VERIFY_NOT_FOUND = "没有这个编号和核验码的电子证照。请对照通知书再核对一遍；仍查不到的，该证照不是本平台签发的"
CONFLICTS = {
    "already_rated": "这个办件已经评价过了，每个办件只能评价一次。感谢您的反馈！",
    "not_issued": "办件出件（办理结果出具）后才能评价，请在出件后再来。",
}


ESCALATION_PREFIX = "BBC"


def _form(receipt: str = "", *, error: str | None = None, status_code: int = 200) -> Template:
    return render(FORM, None, status_code, receipt=receipt, error=error)


def _result(view: views.ProgressView, code: str, status_code: int = 200, **context: Any) -> Template:
    context = {"scale": views.RATING_SCALE, "max_comment": views.MAX_COMMENT, **context}
    return render(RESULT, None, status_code, view=view, code=code, **context)


async def _look_up(
    session: AsyncSession, receipt_text: str, code_text: str
) -> tuple[views.ProgressView, str, str] | Template:
    """The case of a receipt number and query code (with both, cleaned), or the form again saying what is wrong."""
    receipt, code = views.clean(receipt_text), views.clean(code_text)
    if not receipt or not code:
        return _form(receipt[: views.MAX_FIELD], error=MISSING, status_code=400)
    try:
        return await views.progress_view(session, receipt, code), receipt, code
    except NotFound:
        return _form(receipt[: views.MAX_FIELD], error=views.WRONG_PAIR, status_code=404)


async def _escalation(session: AsyncSession, reg_text: str, code_text: str) -> Template:
    reg_no, code = views.clean(reg_text).upper(), views.clean(code_text)
    if not code:
        return _form(reg_no[: views.MAX_FIELD], error=MISSING, status_code=400)
    try:
        found = await escalation_reads.public(session, reg_no[: views.MAX_FIELD], code[:12])
    except NotFound:
        return _form(reg_no[: views.MAX_FIELD], error=views.WRONG_PAIR, status_code=404)
    steps = [(local_time(at, "Asia/Shanghai"), what) for at, what in found.steps]
    return render("public/escalation.html", None, found=found, steps=steps)


class ProgressPagesController(PageController):
    path = "/progress"

    @get("/", opt=OPEN, cache_control=NO_STORE)
    async def lookup_form(self, receipt: FromQuery[str] = "") -> Template:
        """The form; the QR code on a receipt links here with the receipt number filled in (never the code)."""
        return _form(views.clean(receipt)[: views.MAX_FIELD])

    @post("/", opt=OPEN, cache_control=NO_STORE, status_code=200)
    async def lookup(
        self,
        data: Annotated[LookupForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        if views.clean(data.receipt).upper().startswith(ESCALATION_PREFIX):  # 办不成事反映's 登记号
            return await _escalation(db_session, data.receipt, data.code)
        found = await _look_up(db_session, data.receipt, data.code)
        if isinstance(found, Template):
            return found
        view, _receipt, code = found
        return _result(view, code)

    @post("/rating", opt=OPEN, cache_control=NO_STORE, status_code=200)
    async def rate(
        self,
        data: Annotated[RatingForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        found = await _look_up(db_session, data.receipt, data.code)
        if isinstance(found, Template):
            return found
        view, receipt, code = found
        level = int(data.level) if data.level.strip() in {str(n) for n, _ in views.RATING_SCALE} else None
        comment = data.comment.strip()
        if level is None:
            return _result(view, code, 400, rating_error="请选择您对这次办理服务的满意程度。", comment=comment)
        if len(comment) > views.MAX_COMMENT:
            error = f"意见和建议最多 {views.MAX_COMMENT} 字，您写了 {len(comment)} 字，请删减后再提交。"
            return _result(view, code, 400, rating_error=error, comment=comment, level=level)
        try:
            rated = await views.rate_case(db_session, receipt, code, level, comment or None)
        except Conflict as error:
            return _result(view, code, 409, notice=CONFLICTS.get(error.rule or "", error.detail))
        except FuquanError as error:
            return _result(view, code, error.status, rating_error=error.detail, comment=comment, level=level)
        return render("public/thanks.html", None, rated=rated, view=view)

    @post("/complaint", opt=OPEN, cache_control=NO_STORE, status_code=200)
    async def complain(
        self,
        data: Annotated[ComplaintForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        found = await _look_up(db_session, data.receipt, data.code)
        if isinstance(found, Template):
            return found
        view, receipt, code = found
        text = data.text.strip()
        if not 5 <= len(text) <= views.MAX_COMMENT:
            error = f"投诉内容请写 5 到 {views.MAX_COMMENT} 字，您写了 {len(text)} 字。"
            return _result(view, code, 400, complaint_error=error, complaint_text=text)
        try:
            complained = await views.complain(db_session, receipt, code, text)
        except FuquanError as error:
            return _result(view, code, error.status, complaint_error=error.detail, complaint_text=text)
        return _result(view, code, complained=complained)


VERIFY_FORM = "public/verify.html"


class CertificateVerifyPageController(PageController):
    """电子证照核验: the QR code on a result notice opens this page with the number and 核验码 filled in; anyone
    may also type them. The answer is read fresh each time (a certificate may be revoked at any moment)."""

    path = "/verify"

    @get("/", opt=OPEN, cache_control=NO_STORE)
    async def verify(
        self, db_session: NamedDependency[AsyncSession], key_ring: NamedDependency[KeyRing],
        no: FromQuery[str] = "", code: FromQuery[str] = "",
    ) -> Template:  # fmt: skip
        number, verify_code = views.clean(no)[: views.MAX_FIELD], views.clean(code).upper()[: views.MAX_FIELD]
        if not number and not verify_code:
            return render(VERIFY_FORM, None, number="", code="")
        if not number or not verify_code:
            return render(VERIFY_FORM, None, 400, number=number, code=verify_code, error=VERIFY_MISSING)
        found = await certificates.verify(db_session, key_ring.cipher, number, verify_code)
        if found is None:
            return render(VERIFY_FORM, None, 404, number=number, code=verify_code, error=VERIFY_NOT_FOUND)
        return render(VERIFY_FORM, None, number=number, code=verify_code, found=found,
                      issued=fmt_date(found.issued_on),
                      revoked=local_time(found.revoked_at, "Asia/Shanghai") if found.revoked_at else None)  # fmt: skip
