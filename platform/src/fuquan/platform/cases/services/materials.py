"""A case's materials at the desk: pledge (告知承诺), deferral (容缺) or a photo upload."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy.orm.attributes import flag_modified

from fuquan.platform.cases.models import Case, CaseFile, CaseMaterial
from fuquan.platform.cases.repositories import CaseRepository
from fuquan.platform.cases.schemas import MaterialRequest
from fuquan.platform.cases.services.context import CaseContext, record_step, require_rights
from fuquan.platform.cases.state_machine import Status
from fuquan.platform.core.errors import Conflict, NotFound, PermissionDenied, RuleViolation, ValidationFailed
from fuquan.platform.core.timeutil import utcnow

log = structlog.get_logger()


async def set_material(ctx: CaseContext, case_id: int, index: int, request: MaterialRequest) -> CaseFile:
    """告知承诺 or 容缺 for one material, where the catalogue allows it."""
    ctx.actor.require("cases.handle")
    file, material = await _material(ctx, case_id, index)
    case = file.case
    item_material = await _catalog_material(ctx, case, index)
    now = utcnow()
    if request.pledge and request.defer_until is None:
        if not item_material.get("pledge"):
            raise RuleViolation(f"“{material.name}”不适用告知承诺", rule="pledge_not_allowed")
        material.state, material.note, material.defer_until = "pledged", "申请人已签署告知承诺书", None
    elif request.defer_until is not None and not request.pledge:
        if not item_material.get("deferrable"):
            raise RuleViolation(f"“{material.name}”不适用容缺受理", rule="deferral_not_allowed")
        today = ctx.today(now)
        latest = case.deadline or ctx.calendar.add_working_days(today, max(case.promised_days, 1))
        if not today < request.defer_until <= latest:
            raise RuleViolation(f"容缺补交日期须在今天之后、且不晚于 {latest.isoformat()}", rule="deferral_date")
        material.state, material.defer_until = "deferred", request.defer_until
        material.note = f"容缺受理，承诺于 {request.defer_until.isoformat()} 前补交"
    else:
        raise ValidationFailed("请只选择一种：告知承诺（pledge: true）或容缺（defer_until）", rule="material_choice")
    material.updated_at = now
    await record_step(ctx, case, "material", case.status, case.status, None, now,
                  {"index": index, "state": material.state})  # fmt: skip
    await ctx.session.flush()  # the version check happens here: a concurrent step raises StaleDataError
    return file


async def attach_upload(ctx: CaseContext, case_id: int, index: int, stored: dict[str, Any]) -> CaseFile:
    """The applicant's photo or PDF of one material, already checked and stored."""
    ctx.actor.require("cases.handle")
    file, material = await _material(ctx, case_id, index)
    case = file.case
    now = utcnow()
    material.state, material.defer_until, material.note = "uploaded", None, "已上传"
    material.file_key, material.sha256 = stored["key"], stored["sha256"]
    material.size, material.content_type = stored["size"], stored["content_type"]
    material.updated_at = now
    await record_step(ctx, case, "material", case.status, case.status, None, now,
                  {"index": index, "state": "uploaded", "sha256": stored["sha256"]})  # fmt: skip
    await ctx.session.flush()  # the version check happens here: a concurrent step raises StaleDataError
    return file


async def _material(ctx: CaseContext, case_id: int, index: int) -> tuple[CaseFile, CaseMaterial]:
    """The case (locked, and its version bumped, so a material change and a step on the same case cannot
    interleave) and one of its materials, if the actor's front desk may take materials for it now."""
    file = await CaseRepository(ctx.session).load(ctx.actor.scope, case_id, for_update=True)
    case = file.case
    flag_modified(case, "status")  # an UPDATE … WHERE version = …: a concurrent step makes one of us fail
    if case.status not in (Status.DRAFT, Status.SUBMITTED, Status.AWAITING_SUPPLEMENT, Status.CORRECTING):
        raise Conflict("办件已受理或已结束，不能再更改材料", rule="materials_locked")
    if ctx.actor.unit_code != case.accepting_unit:
        raise PermissionDenied(f"材料须由受理单位 {case.accepting_unit} 收取", rule="wrong_desk")
    await require_rights(ctx, case.accepting_unit, await ctx.item_of(case), "accept", utcnow())
    materials = {m.index: m for m in file.materials}
    if index not in materials:
        raise NotFound(f"该事项没有第 {index} 项材料")
    return file, materials[index]


async def _catalog_material(ctx: CaseContext, case: Case, index: int) -> dict[str, Any]:
    item = await ctx.item_of(case)
    return dict(item.materials[index - 1])
