"""人员管理: a security administrator (安全保密管理员) or unit administrator (单位管理员) manages the staff accounts
of their own subtree — enrol, disable and enable, reset a password, give and take away roles, unlock, reset the
second factor. Every change is audited in its transaction; refusals are audited by the caller.

Who may do what (``accounts.roles``):
- anyone outside the actor's tenant or subtree reads as not found (404);
- nobody manages their own account (403, ``own_account``): another administrator does;
- the security administrator gives any role, the unit administrator only front-line roles (业务岗位), and neither
  manages an account holding a role they could not give (403, ``role_not_assignable``);
- no account ends up holding two of the three admin duties (三员分立, 422 ``separation_of_duties``);
- resetting a second factor is the security administrator's alone (``accounts.factors.reset_second_factor``);
- 双人复核: what could hand one person an admin account — enrolling someone with an admin duty, giving an admin
  duty, resetting the password or second factor of someone holding one — needs a second security administrator
  of the tenant, present, confirming with their current code (``co_signer``; 403 ``second_person_required``).
  Without it a security administrator could make puppet admins or take over the auditor's account alone.

Disabling a person or changing their roles ends their live logins (tokens and page sessions, in every process).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.accounts.factors import reset_second_factor
from fuquan.platform.accounts.logins import LoginDirectory
from fuquan.platform.accounts.models import RoleAssignment, Staff
from fuquan.platform.accounts.roles import DUTIES, ROLE_NAMES, assignable_by, check_separation
from fuquan.platform.accounts.services import add_staff, prove_second_factor, revoke_logins, set_password
from fuquan.platform.accounts.throttle import LoginThrottle
from fuquan.platform.core.audit.services import append
from fuquan.platform.core.errors import NotFound, PermissionDenied, RuleViolation, Unauthenticated
from fuquan.platform.core.keys.services import KeyRing
from fuquan.platform.staff.repositories import StaffDirectoryRepository
from fuquan.platform.staff.schemas import CoSigner, StaffCreate, StaffRead
from fuquan.tenants.services import get_unit, unit_names

log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class Witness:
    """双人复核 for one request: who co-signs (from the body, if anyone) and what checking their code needs — the
    key ring (their TOTP secret), the login throttle (a wrong code counts against them, from this client)."""

    co_signer: CoSigner | None
    ring: KeyRing
    throttle: LoginThrottle
    client: str | None
    request_id: str | None


@dataclass(frozen=True, slots=True)
class StaffQuery:
    unit: str | None = None
    role: str | None = None
    active: bool | None = None


def held_roles(staff: Staff) -> list[str]:
    """The person's roles, in the order of the role table."""
    order = list(ROLE_NAMES)
    return sorted({a.role for a in staff.roles}, key=lambda role: order.index(role) if role in order else len(order))


async def staff_reads(session: AsyncSession, actor: Actor, staff: Sequence[Staff]) -> list[StaffRead]:
    names = await unit_names(session, actor.scope, sorted({s.unit_code for s in staff}))
    enrolled = await StaffDirectoryRepository(session).enrolled_factors([s.id for s in staff])
    reads = [
        StaffRead(
            id=s.id, username=s.username, display_name=s.display_name, unit=s.unit_code,
            unit_name=names.get(s.unit_code, s.unit_code), roles=held_roles(s), active=s.active,
            created_at=s.created_at, second_factor=s.id in enrolled,
        )
        for s in staff
    ]  # fmt: skip
    return reads


async def search(session: AsyncSession, actor: Actor, query: StaffQuery, *, limit: int, offset: int) -> list[Staff]:
    """The staff of the actor's subtree (under ``query.unit``, which must lie in it: else 404)."""
    if query.unit is not None:
        await get_unit(session, actor.scope, query.unit)
    return await StaffDirectoryRepository(session).search(
        actor.scope, unit=query.unit, role=query.role, active=query.active, limit=limit, offset=offset
    )


async def get(session: AsyncSession, actor: Actor, staff_id: int, *, lock: bool = False) -> Staff:
    staff = await StaffDirectoryRepository(session).get(actor.scope, staff_id, lock=lock)
    if staff is None:
        raise NotFound(f"人员 #{staff_id} 不存在或不在您的管辖范围内", rule="staff_not_found")
    return staff


def _may_give(actor: Actor, roles: Sequence[str]) -> None:
    allowed = assignable_by(actor.roles)
    beyond = [role for role in roles if role not in allowed]
    if beyond:
        names = "、".join(f"“{ROLE_NAMES.get(role, role)}”" for role in beyond)
        raise PermissionDenied(
            f"您的岗位不能授予或收回{names}：管理员岗位由安全保密管理员授予", rule="role_not_assignable"
        )


def _may_manage(actor: Actor, staff: Staff) -> None:
    if staff.id == actor.staff_id:
        raise PermissionDenied("不能管理自己的账号，请由其他管理员办理", rule="own_account")
    allowed = assignable_by(actor.roles)
    beyond = [role for role in held_roles(staff) if role not in allowed]
    if beyond:
        raise PermissionDenied(
            f"您的岗位不能管理担任“{ROLE_NAMES.get(beyond[0], beyond[0])}”的人员账号，请联系安全保密管理员",
            rule="role_not_assignable",
        )


async def _managed(session: AsyncSession, actor: Actor, staff_id: int) -> Staff:
    """The person, row locked (changes to one person run one after another), once the actor may manage them."""
    staff = await get(session, actor, staff_id, lock=True)
    _may_manage(actor, staff)
    return staff


def _admin_duty(roles: Iterable[str]) -> bool:
    return any(role in DUTIES for role in roles)


async def _second_person(
    session: AsyncSession, actor: Actor, witness: Witness, *, act: str, person: str, target_id: int | None = None
) -> None:
    """双人复核: another active security administrator of the tenant — not the actor, not the person acted on —
    proves their second factor here and now; recorded beside the act (``staff.co_signed``)."""
    signer = witness.co_signer
    if signer is None:
        raise PermissionDenied(
            "此操作涉及管理员岗位（系统、安全、审计管理员），须由本租户另一位安全保密管理员现场复核："
            "请填写复核人的用户名和其身份验证器上的动态验证码",
            rule="second_person_required",
        )
    staff = await StaffDirectoryRepository(session).in_tenant(actor.scope, signer.username)
    if (
        staff is None or not staff.active or staff.id in (actor.staff_id, target_id)
        or "security_admin" not in held_roles(staff)
    ):  # fmt: skip
        raise PermissionDenied(
            "复核人须是本租户另一位在用的安全保密管理员（不能是操作人本人或被操作的人员）", rule="second_person_invalid"
        )
    try:
        await prove_second_factor(
            session, witness.ring, staff, signer.code, username=staff.username, throttle=witness.throttle,
            client=witness.client, request_id=witness.request_id,
        )  # fmt: skip
    except Unauthenticated as error:  # the actor's own login is fine: it is the co-signer's code that is not
        raise PermissionDenied(f"复核人的{error.detail}", rule="second_person_code") from None
    detail = {"act": act, "username": person, "co_signer": staff.username}
    resource = None if target_id is None else f"staff:{target_id}"
    entry = actor.audit_entry("staff.co_signed", resource=resource, request_id=witness.request_id, detail=detail)
    await append(session, entry)
    log.info("staff_act_co_signed", act=act, by=actor.staff_id, co_signer=staff.id)


def _audit_detail(staff: Staff, **extra: object) -> dict[str, object]:
    return {"username": staff.username, "unit": staff.unit_code, **extra}


async def enrol(session: AsyncSession, actor: Actor, data: StaffCreate, witness: Witness) -> Staff:
    """新增人员 at a unit of the actor's subtree, with roles the actor may give (password strength checked; an
    admin duty co-signed)."""
    request_id = witness.request_id
    await get_unit(session, actor.scope, data.unit)  # outside the subtree: 404
    _may_give(actor, data.roles)
    check_separation(data.roles)  # before the co-signer is asked for: two duties are refused (422) whoever signs
    if _admin_duty(data.roles):
        await _second_person(session, actor, witness, act="staff.add", person=data.username)
    staff = await add_staff(
        session, username=data.username, tenant_code=actor.scope.tenant_code, unit_code=data.unit,
        roles=list(data.roles), password=data.password, display_name=data.display_name, actor=actor,
        request_id=request_id,
    )  # fmt: skip
    log.info("staff_enrolled", staff_id=staff.id, by=actor.staff_id)
    return staff


async def set_active(
    session: AsyncSession, actor: Actor, staff_id: int, active: bool, logins: LoginDirectory, request_id: str | None
) -> Staff:
    """停用 / 启用: a disabled account cannot log in, and its live logins end now."""
    staff = await _managed(session, actor, staff_id)
    ended = 0
    if staff.active != active:
        staff.active = active
        await StaffDirectoryRepository(session).flush()
    if not active:
        ended = await revoke_logins(session, staff.id, logins)
    action = "staff.enable" if active else "staff.disable"
    detail = _audit_detail(staff, logins_ended=ended)
    await append(session, actor.audit_entry(action, resource=f"staff:{staff.id}", request_id=request_id, detail=detail))
    log.info("staff_enabled" if active else "staff_disabled", staff_id=staff.id, by=actor.staff_id)
    return staff


async def reset_password(
    session: AsyncSession, actor: Actor, staff_id: int, password: str, logins: LoginDirectory, witness: Witness
) -> Staff:
    """重置密码: the new password's strength is checked and every login of the person ends (audited by
    ``set_password`` as ``staff.password_reset``); an admin's co-signed."""
    staff = await _managed(session, actor, staff_id)
    if _admin_duty(held_roles(staff)):
        await _second_person(session, actor, witness, act="staff.password_reset", person=staff.username,
                             target_id=staff.id)  # fmt: skip
    await set_password(
        session, staff=staff, password=password, logins=logins, actor=actor, request_id=witness.request_id
    )
    return staff


async def assign_role(
    session: AsyncSession, actor: Actor, staff_id: int, role: str, logins: LoginDirectory, witness: Witness
) -> Staff:
    """授予岗位 at the person's own unit (an admin duty co-signed); their live logins end, so the next one carries
    the new role."""
    request_id = witness.request_id
    staff = await _managed(session, actor, staff_id)
    _may_give(actor, [role])
    held = held_roles(staff)
    if role not in held:
        check_separation([*held, role])
        if _admin_duty([role]):
            await _second_person(session, actor, witness, act="staff.role_assign", person=staff.username,
                                 target_id=staff.id)  # fmt: skip
        staff.roles.append(RoleAssignment(tenant_id=staff.tenant_id, unit_code=staff.unit_code, role=role))
        await StaffDirectoryRepository(session).flush()
    ended = await revoke_logins(session, staff.id, logins)
    detail = _audit_detail(staff, role=role, roles=held_roles(staff), logins_ended=ended)
    entry = actor.audit_entry("staff.role_assign", resource=f"staff:{staff.id}", request_id=request_id, detail=detail)
    await append(session, entry)
    log.info("staff_role_assigned", staff_id=staff.id, role=role, by=actor.staff_id)
    return staff


async def remove_role(
    session: AsyncSession, actor: Actor, staff_id: int, role: str, logins: LoginDirectory, request_id: str | None
) -> Staff:
    """收回岗位 (at any unit the person holds it); the last role stays — an account no longer needed is disabled."""
    staff = await _managed(session, actor, staff_id)
    _may_give(actor, [role])
    if role in held_roles(staff):
        if not [a for a in staff.roles if a.role != role]:
            raise RuleViolation("这是该人员唯一的岗位，不能收回；人员不再任职请停用账号", rule="last_role")
        for assignment in [a for a in staff.roles if a.role == role]:
            staff.roles.remove(assignment)
        await StaffDirectoryRepository(session).flush()
    ended = await revoke_logins(session, staff.id, logins)
    detail = _audit_detail(staff, role=role, roles=held_roles(staff), logins_ended=ended)
    entry = actor.audit_entry("staff.role_remove", resource=f"staff:{staff.id}", request_id=request_id, detail=detail)
    await append(session, entry)
    log.info("staff_role_removed", staff_id=staff.id, role=role, by=actor.staff_id)
    return staff


async def unlock(
    session: AsyncSession, actor: Actor, staff_id: int, throttle: LoginThrottle, request_id: str | None
) -> Staff:
    """解除登录锁定: every client's count of the person's failed logins is forgotten."""
    staff = await _managed(session, actor, staff_id)
    await append(
        session,
        actor.audit_entry("staff.unlock", resource=f"staff:{staff.id}", request_id=request_id,
                          detail=_audit_detail(staff)),
    )  # fmt: skip
    # the store is not transactional: forgotten once the record is written, so no unlock goes unaudited
    await throttle.unlock(staff.username)
    log.info("staff_unlocked", staff_id=staff.id, by=actor.staff_id)
    return staff


async def reset_factor(session: AsyncSession, actor: Actor, staff_id: int, witness: Witness) -> Staff:
    """重置动态验证码: the person enrols again at their next login (security administrators only; audited by
    ``reset_second_factor``). Every holder of a factor holds an admin duty: always co-signed."""
    staff = await _managed(session, actor, staff_id)
    if "security_admin" in actor.roles and _admin_duty(held_roles(staff)):  # anyone else is refused just below
        await _second_person(session, actor, witness, act="auth.second_factor.reset", person=staff.username,
                             target_id=staff.id)  # fmt: skip
    await reset_second_factor(session, actor=actor, staff=staff, request_id=witness.request_id)
    return staff
