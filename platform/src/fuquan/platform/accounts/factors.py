"""第二重身份验证 (second factor) of the admin roles: TOTP (RFC 6238) and one-time recovery codes (恢复码).

- Who: anyone holding one of ``FACTOR_ROLES`` (at any unit) proves a code after the password, on the web login and
  the API token endpoint alike; until they do, no token or session is issued.
- Enrolment (绑定): on first login the person is shown a new secret (QR code and text); it is stored encrypted with
  the tenant's data key (``FACTOR_SECRETS``, re-encrypted by key rotation) but counts only once the person has
  proved a code made with it. That first proof also makes ``RECOVERY_CODE_COUNT`` recovery codes, shown once and
  stored as SM3 digests. Starting again before the proof replaces the pending secret.
- Codes: six digits, 30-second steps, ±1 step of clock drift; each step is accepted once (RFC 6238 §5.2), so a
  code seen over a shoulder or in a log cannot be used again. A recovery code works once.
- A wrong code counts as a failed login in the ``LoginThrottle`` of that username and client, like a wrong
  password; the right password alone neither counts nor clears anything.
- Reset (重置) is a security administrator's act within their subtree (``reset_second_factor``): the person
  enrols again at their next login.

Failed proofs are audited as rejected logins (``auth.login`` with the rule) by the caller's
``rejections_audited``; enrolment, recovery-code use and reset are audited here.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import pyotp
import segno
import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.accounts.models import SecondFactor, Staff, factor_secret_context
from fuquan.platform.accounts.repositories import FactorRepository
from fuquan.platform.accounts.roles import FACTOR_ROLES
from fuquan.platform.core.audit.services import AuditEntry, append
from fuquan.platform.core.crypto import sm3_hex
from fuquan.platform.core.errors import Conflict, NotFound, PermissionDenied, Unauthenticated
from fuquan.platform.core.keys.ciphers import TenantCipher
from fuquan.platform.core.keys.services import KeyRing
from fuquan.platform.core.timeutil import utcnow
from fuquan.tenants.repositories import TenantRepository
from fuquan.tenants.scope import whole_tenant

log = structlog.get_logger()

ISSUER: Final = "Fuquan"  # the name an authenticator app lists the account under
STEP_SECONDS: Final = 30
DIGITS: Final = 6
DRIFT_STEPS: Final = 1  # a code of the step before or after is accepted too (clock drift, typing time)
RECOVERY_CODE_COUNT: Final = 10
_RECOVERY_ALPHABET: Final = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
_RECOVERY_LENGTH: Final = 10  # ~49 bits each, shown as xxxxx-xxxxx
_TOTP_CODE: Final = re.compile(r"[0-9]{6}")

# the problem rules a client sees (401): what to send next
REQUIRED: Final = "second_factor_required"
ENROLMENT_REQUIRED: Final = "second_factor_enrolment_required"
INVALID: Final = "second_factor_invalid"


def needs_second_factor(staff: Staff) -> bool:
    return any(assignment.role in FACTOR_ROLES for assignment in staff.roles)


@dataclass(frozen=True, slots=True)
class Enrolment:
    """A new secret to be added to an authenticator app (shown to the person, never logged)."""

    username: str
    secret: str

    @property
    def uri(self) -> str:
        """The otpauth:// URI the QR code holds."""
        return pyotp.TOTP(self.secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
            name=self.username, issuer_name=ISSUER
        )

    @property
    def grouped_secret(self) -> str:
        """The secret in groups of four, for typing it in by hand."""
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))

    def qr_svg(self) -> str:
        """The QR code as inline SVG markup (no script, no external resource: fine under the pages' CSP)."""
        return str(segno.make(self.uri, error="m").svg_inline(scale=5, title="动态验证码绑定二维码", omitsize=False))


def code_at(secret: str, step: int) -> str:
    """The code of ``step`` (for tests, benchmarks and the proof below)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)


def step_of(moment: datetime) -> int:
    return int(moment.timestamp()) // STEP_SECONDS


def recovery_digest(code: str) -> str:
    return sm3_hex(_normalised(code).encode())


def _normalised(code: str) -> str:
    return re.sub(r"[\s-]", "", code).lower()


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def _staff_entry(staff: Staff, action: str, *, request_id: str | None, **detail: object) -> AuditEntry:
    return AuditEntry(
        action=action, tenant_id=staff.tenant_id, actor=staff.username, actor_id=staff.id,
        role=",".join(sorted({r.role for r in staff.roles})), unit=staff.unit_code, resource=f"staff:{staff.id}",
        request_id=request_id, detail=dict(detail),
    )  # fmt: skip


async def _context(session: AsyncSession, ring: KeyRing, staff: Staff) -> tuple[TenantCipher, bytes]:
    tenant = await TenantRepository(session).by_id(staff.tenant_id)
    assert tenant is not None  # a staff row always has its tenant (FK)
    cipher = await ring.cipher(whole_tenant(tenant), session)
    return cipher, factor_secret_context(tenant.code, staff.id)


async def is_enrolled(session: AsyncSession, staff: Staff) -> bool:
    factor = await FactorRepository(session).of_staff(staff.id)
    return factor is not None and factor.enrolled_at is not None


def missing_factor(enrolled: bool, staff: Staff) -> Unauthenticated:
    """The 401 that tells a client which second-factor step comes next."""
    if enrolled:
        return Unauthenticated(
            "请输入身份验证器（动态验证码）App 上显示的 6 位验证码", rule=REQUIRED, audit_tenant_id=staff.tenant_id
        )
    return Unauthenticated(
        "管理员账号需要先绑定动态验证码：请用身份验证器 App 扫描绑定二维码，再输入其显示的 6 位验证码",
        rule=ENROLMENT_REQUIRED, audit_tenant_id=staff.tenant_id,
    )  # fmt: skip


async def start_enrolment(
    session: AsyncSession, ring: KeyRing, staff: Staff, *, request_id: str | None, secret: str | None = None
) -> Enrolment:
    """A new secret for the person (their password already checked), replacing any not yet proved. ``secret``
    is for setting up test and benchmark accounts only."""
    repository = FactorRepository(session)
    factor = await repository.of_staff(staff.id)
    if factor is not None and factor.enrolled_at is not None:
        raise Conflict("该账号已绑定动态验证码；如更换了手机，请联系安全保密管理员重置", rule="second_factor_enrolled")
    secret = secret or pyotp.random_base32()
    cipher, context = await _context(session, ring, staff)
    sealed = cipher.encrypt(secret, context=context)
    now = utcnow()
    if factor is None:
        try:
            await repository.add(
                SecondFactor(tenant_id=staff.tenant_id, staff_id=staff.id, secret_cipher=sealed, created_at=now)
            )
        except IntegrityError as error:  # another request started enrolment at the same moment
            raise Conflict("正在另一处绑定动态验证码，请稍后重试", rule="second_factor_busy") from error
    else:
        factor.secret_cipher, factor.created_at, factor.last_step = sealed, now, None
        await session.flush()
    await append(session, _staff_entry(staff, "auth.second_factor.enrolment_started", request_id=request_id))
    return Enrolment(staff.username, secret)


async def pending_enrolment(session: AsyncSession, ring: KeyRing, staff: Staff) -> Enrolment | None:
    """The secret the person was shown and has not proved yet (to show it again after a wrong code)."""
    factor = await FactorRepository(session).of_staff(staff.id)
    if factor is None or factor.enrolled_at is not None:
        return None
    cipher, context = await _context(session, ring, staff)
    return Enrolment(staff.username, cipher.decrypt(factor.secret_cipher, context=context))


async def prove(session: AsyncSession, ring: KeyRing, staff: Staff, code: str, *, request_id: str | None) -> list[str]:
    """Check the person's code (a TOTP code, or a recovery code once enrolled). Returns the new recovery codes
    when this proof completes enrolment (to be shown once), else an empty list. Raises ``Unauthenticated`` with
    rule ``second_factor_invalid`` for a wrong, replayed or used code (the caller counts it as a failed login)."""
    repository = FactorRepository(session)
    factor = await repository.of_staff(staff.id)
    if factor is None:
        raise missing_factor(False, staff)
    enrolling = factor.enrolled_at is None
    invalid = Unauthenticated(
        "验证码不正确或已使用过：请输入身份验证器 App 上当前显示的 6 位验证码"
        + ("" if enrolling else "（或一个未用过的恢复码）"),
        rule=INVALID, audit_tenant_id=staff.tenant_id,
    )  # fmt: skip
    typed = code.strip().replace(" ", "")
    now = utcnow()
    if not _TOTP_CODE.fullmatch(typed):
        if enrolling or not await repository.use_recovery_code(staff.id, recovery_digest(code), now):
            raise invalid
        left = await repository.recovery_codes_left(staff.id)
        await append(session, _staff_entry(staff, "auth.second_factor.recovery_used", request_id=request_id, left=left))
        log.info("recovery_code_used", staff_id=staff.id, left=left)
        return []
    cipher, context = await _context(session, ring, staff)
    secret = cipher.decrypt(factor.secret_cipher, context=context)
    current = step_of(now)
    matched = [
        step
        for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1)
        if hmac.compare_digest(code_at(secret, step), typed)
    ]
    # the step is taken in the same statement that checks it was not taken: a replay loses even when it races
    if not matched or not await repository.use_step(factor.id, matched[-1], enrolled_at=now if enrolling else None):
        raise invalid
    if not enrolling:
        return []
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    await repository.replace_recovery_codes(staff.id, [recovery_digest(c) for c in codes])
    await append(
        session,
        _staff_entry(staff, "auth.second_factor.enrolled", request_id=request_id, recovery_codes=len(codes)),
    )
    log.info("second_factor_enrolled", staff_id=staff.id)
    return codes


async def reset_second_factor(
    session: AsyncSession, *, actor: Actor, staff: Staff, request_id: str | None = None
) -> None:
    """重置动态验证码: the person's secret and recovery codes are removed, so they enrol again at their next login.

    Only a security administrator (安全保密管理员) may, for a person in their own tenant and subtree (anyone else
    reads as not found, 404), and never for themselves (三员分立: a security administrator's own factor is reset
    by another). Audited. Logins already issued are not ended: to shut a person out, also set their password
    (``set_password`` revokes every token and session)."""
    if "security_admin" not in actor.roles:
        raise PermissionDenied("只有安全保密管理员可以重置动态验证码", rule="role_permission")
    if staff.tenant_id != actor.tenant_id or not actor.scope.covers(staff.unit_code):
        raise NotFound("未找到该人员", rule="staff_not_found")
    if staff.id == actor.staff_id:
        raise PermissionDenied(
            "不能重置自己的动态验证码，请由另一位安全保密管理员操作", rule="second_factor_self_reset"
        )
    had = await FactorRepository(session).remove(staff.id)
    await append(
        session,
        actor.audit_entry(
            "auth.second_factor.reset",
            resource=f"staff:{staff.id}",
            request_id=request_id,
            detail={"username": staff.username, "had": had},
        ),
    )
    log.info("second_factor_reset", staff_id=staff.id, by=actor.staff_id)
