"""Demo cases (演示办件): a few hundred realistic cases in every state, made through the real case services.

Every case is created, given its materials and moved along the transition table by the same
services the API calls (``create_case``, ``attach_upload``, ``set_material``, ``transition``), as
demo staff at the units that really hold the rights, so authorisation, routing (前台受理 → 后台审批
→ 统一出件), trace events (全程留痕) and audit records are all genuine. Applicants are synthetic
residents: made-up names and phone numbers, ID numbers that pass GB 11643 but belong to nobody.
Material photos are small generated PNGs of a blank "document", stored like any upload.

Demo data is back-dated
-----------------------
The services stamp every step with the current time, but supervision (电子监察) only has something
to show once cases have been open for days: deadlines running normally, nearly due (yellow) and
overdue (red), cases decided late, supplements and special procedures that stopped the clock.
Waiting real working days is not an option, so each case is first planned on a timeline in the
last ~30 days (working days and office hours on the tenant's calendar), then driven through the
services now, and then — in the same transaction, in one place (``_backdate``) — its timeline is
moved into the past: the case's created/accepted/decided/issued/closed instants, ``accepted_on``,
the deadline (recomputed with ``WorkingCalendar.add_working_days`` from the back-dated acceptance
day, exactly as acceptance computes it), the trace events' ``at`` and the accept event's deadline,
the pause dates (补正 and 特别程序), material timestamps and 容缺 due dates, the applicant's first
appearance, and the receipt number (which encodes the day a case entered; the number is taken from
the same per-unit, per-day counter as a live case, so it stays unique).

Audit records are **not** back-dated: they are hash-chained and say truthfully when the generator
ran (their ``receipt_no`` is the one the case had before back-dating; ``resource`` names the case
id). One extra audit record, ``demo.cases_backdated``, states that this was done and to how many
cases. Nothing in the case services allows back-dating; only this generator does it, to demo data.
"""

from __future__ import annotations

import random
import struct
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

import msgspec
import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.authority import services as authority
from fuquan.authority.registry import AuthorityRegistry
from fuquan.platform.accounts.actor import Actor
from fuquan.platform.accounts.repositories import StaffRepository
from fuquan.platform.accounts.services import add_staff
from fuquan.platform.calendar.services import calendar_for
from fuquan.platform.calendar.workdays import WorkingCalendar
from fuquan.platform.cases import reads, services
from fuquan.platform.cases.models import Case, CaseEvent, CaseMaterial, CasePause
from fuquan.platform.cases.receipts import receipt_no
from fuquan.platform.cases.repositories import ApplicantRepository, CaseRepository, ReceiptCounterRepository
from fuquan.platform.cases.schemas import ApplicantWrite, CaseCreate, MaterialRequest, Signal
from fuquan.platform.cases.state_machine import Action, Status
from fuquan.platform.catalog import services as catalog_services
from fuquan.platform.catalog.models import CatalogItem
from fuquan.platform.catalog.services import Catalog
from fuquan.platform.core.audit.services import AuditEntry, append
from fuquan.platform.core.db import session_scope
from fuquan.platform.core.files import LocalFileStore, sniff_upload
from fuquan.platform.core.personal import PersonalDataCipher, id_check_char
from fuquan.platform.core.timeutil import local_date, utcnow
from fuquan.platform.setup.demo import DEMO_PASSWORD, DEMO_STAFF, PILOT_START, DemoStaff
from fuquan.tenants.repositories import TenantRepository
from fuquan.tenants.scope import scope_for

log = structlog.get_logger()

TENANT: Final = "64"
WINDOW_DAYS: Final = 30  # cases entered over about the last month
BATCH: Final = 75  # cases per transaction
REQUEST_ID: Final = "demo-cases"

# Approvers (and two more windows, agents and a grid specialist) the demo grants need to be usable:
# every township and county a demo desk routes to gets someone who may decide there.
EXTRA_STAFF: Final = (
    DemoStaff("dwk_approver2", TENANT, "640202", "approver", "大武口区人社局审批员（二）"),
    DemoStaff("cy_clerk", TENANT, "640202002", "window_clerk", "朝阳街道综合窗口"),
    DemoStaff("cy_approver", TENANT, "640202002", "approver", "朝阳街道审批员"),
    DemoStaff("ws_agent", TENANT, "640202002001", "village_agent", "万盛社区代办员"),
    DemoStaff("ws_grid", TENANT, "640202002001001", "grid_specialist", "万盛社区第1网格人社专员"),
    DemoStaff("zbb_approver", TENANT, "640105101", "approver", "西夏区镇北堡镇审批员"),
    DemoStaff("xx_approver", TENANT, "640105", "approver", "西夏区人社局审批员"),
    DemoStaff("zn_approver", TENANT, "640521", "approver", "中宁县人社局审批员"),
    DemoStaff("dw_approver", TENANT, "640424203", "approver", "泾源县大湾乡审批员"),
    DemoStaff("jy_approver", TENANT, "640424", "approver", "泾源县人社局审批员"),
    # a village outside the pilots: nothing granted yet, so an admin can show what a grant changes there
    DemoStaff("mll_agent", TENANT, "640521105200", "village_agent", "中宁县大战场镇马莲梁村代办员"),
)


@dataclass(frozen=True, slots=True)
class Desk:
    """A front desk (收件、受理、出件) where demo cases enter, and how busy it is."""

    username: str
    unit: str
    county: str  # the county whose region code the desk's residents carry
    weight: int


DESKS: Final = (
    Desk("cs_clerk", "640202001", "640202", 18),  # 长胜街道便民服务中心
    Desk("cy_clerk", "640202002", "640202", 12),  # 朝阳街道
    Desk("jm_agent", "640202001001", "640202", 11),  # 骏马社区
    Desk("ws_agent", "640202002001", "640202", 6),  # 万盛社区
    Desk("jm_grid", "640202001001001", "640202", 9),  # 骏马社区第1网格
    Desk("ws_grid", "640202002001001", "640202", 4),  # 万盛社区第1网格
    Desk("dzc_clerk", "640521105", "640521", 12),  # 中宁县大战场镇
    Desk("zbb_clerk", "640105101", "640105", 10),  # 西夏区镇北堡镇
    Desk("ny_agent", "640424203209", "640424", 8),  # 泾源县大湾乡牛营村
)

# Mostly the ID-only items residents come for every day; loans, subsidies and disputes less often.
ITEM_WEIGHTS: Final = {
    "HRSS-01": 12, "HRSS-02": 12, "HRSS-03": 4, "HRSS-04": 10, "HRSS-05": 5, "HRSS-06": 8, "HRSS-07": 3,
    "HRSS-08": 4, "HRSS-09": 9, "HRSS-10": 6, "HRSS-11": 8, "HRSS-12": 7, "HRSS-13": 3, "HRSS-14": 3,
    "HRSS-15": 6, "HRSS-16": 5, "HRSS-17": 3, "HRSS-18": 3, "HRSS-19": 8, "HRSS-20": 5,
}  # fmt: skip

STATUS_WEIGHTS: Final = {
    Status.CLOSED: 25, Status.ISSUED: 7, Status.APPROVED: 4, Status.DENIED: 3, Status.IN_REVIEW: 11,
    Status.ACCEPTED: 9, Status.SUSPENDED: 5, Status.AWAITING_SUPPLEMENT: 7, Status.SUBMITTED: 6,
    Status.DRAFT: 5, Status.REFUSED: 6, Status.WITHDRAWN: 5,
}  # fmt: skip
CLOCKED: Final = (Status.ACCEPTED, Status.IN_REVIEW, Status.SUSPENDED)
SIGNAL_WEIGHTS: Final[dict[Status, dict[Signal, int]]] = {
    Status.ACCEPTED: {"normal": 5, "yellow": 3, "red": 2},
    Status.IN_REVIEW: {"normal": 5, "yellow": 3, "red": 2},
    Status.SUSPENDED: {"normal": 4, "yellow": 2, "red": 1},
}
# Always in the plan, whatever the count: every state, and every signal in the open queues.
MUST_HAVE: Final[tuple[tuple[Status, Signal | None], ...]] = (
    *((status, None) for status in STATUS_WEIGHTS if status not in CLOCKED),
    *((status, signal) for status in CLOCKED for signal in ("normal", "yellow", "red")),
)

# Born when, for whom: pensions need 60+, death-related items a grown relative, the rest working age.
BIRTH_YEARS: Final = {
    "HRSS-11": (1955, 1966), "HRSS-12": (1955, 1966), "HRSS-13": (1955, 1988), "HRSS-14": (1955, 1988),
    "HRSS-16": (1958, 2004), "HRSS-19": (1958, 2004), "HRSS-20": (1958, 2004),
}  # fmt: skip
WORKING_AGE: Final = (1967, 2004)

SURNAMES: Final = (
    "马" * 8 + "王" * 5 + "李" * 5 + "张" * 4 + "杨" * 3 + "刘" * 3 + "田" * 2 + "丁" * 2 + "海" * 2
    + "何周赵陈吴金苏白罗冯孙纳拓虎郭高黄"
)  # fmt: skip
GIVEN: Final = {  # (sex, born before 1980)
    ("male", True): ("建国", "志强", "海军", "国庆", "学礼", "占山", "有福", "文明", "振华", "建军", "福贵", "玉龙"),
    ("male", False): ("伟", "俊杰", "浩然", "子豪", "宇航", "鹏", "磊", "晓东", "文博", "小龙", "嘉豪", "明轩"),
    ("female", True): ("秀兰", "桂英", "玉梅", "海燕", "秀英", "凤琴", "春花", "淑芳", "丽华", "兰英"),
    ("female", False): ("丽", "静", "娟", "芳", "晓燕", "雪", "欣怡", "梦瑶", "佳琪", "婷婷", "思雨", "雅琴"),
}
PHONE_PREFIXES: Final = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139",
    "150", "151", "152", "155", "157", "158", "159",
    "180", "181", "182", "183", "186", "187", "188", "189",
)  # fmt: skip

# 不予受理: why a case was not even accepted.
REFUSE_REASONS: Final = {
    "HRSS-02": ("经核查，申请人当前存在企业职工养老保险正常缴费记录，处于就业状态，不符合失业登记条件",),
    "HRSS-04": ("申请人未办理失业登记，应先办理失业登记后再申请就业困难人员认定",),
    "HRSS-09": ("申请人已参加企业职工基本养老保险并正常缴费，不能同时参加城乡居民基本养老保险",),
    "HRSS-11": ("申请人未达到60周岁，不符合城乡居民基本养老保险待遇领取条件",),
    "HRSS-17": ("投诉事项属于劳动争议，不属于劳动保障监察受理范围，已告知申请人申请劳动人事争议调解或仲裁",),
    "HRSS-18": ("该争议已由劳动人事争议仲裁委员会立案受理，不再受理调解申请",),
    "HRSS-19": ("申请人已持有有效的第三代社会保障卡，无需重复申领；如需更换请办理补换业务",),
}
GENERIC_REFUSALS: Final = (
    "申请人户籍及居住地均不在本辖区，已告知其到户籍所在地或居住地乡镇（街道）办理",
    "申请人已在其他服务网点提交同一事项申请且正在办理中，不能重复受理",
    "申请事项不属于本服务点受理范围，已告知申请人到县人社局服务大厅办理",
)
# 补齐补正: what is missing or wrong (一次性告知); {m} is the material's name.
SUPPLEMENT_MISSING: Final = (
    "一次性告知：缺少“{m}”，请补交后重新提交",
    "一次性告知：申请材料不齐全，请补充提交“{m}”",
    "“{m}”未随件提交，请申请人携带原件到服务点拍照补交",
)
SUPPLEMENT_UNUSABLE: Final = (  # the material was photographed, but cannot be used as it is
    "“{m}”照片模糊、四角不全，无法辨认，请重新拍摄上传",
    "“{m}”上的姓名与申请人身份信息不一致，请核对后补交正确材料",
    "“{m}”为复印件且未加盖出具单位公章，请补交原件照片",
)
# 特别程序: site inspection (实地核查) or expert review (专家评审); the clock stops.
SUSPEND_REASONS: Final = {
    "HRSS-04": ("需实地核查：入户核实申请人家庭经济状况和就业状态", "需实地核查：向社区了解申请人实际居住和就业情况"),
    "HRSS-05": ("需实地核查：核实申请人灵活就业的真实性（经营场所、从业情况）",),
    "HRSS-07": ("需专家评审：提交创业担保贷款项目评审小组评估创业项目可行性", "需实地核查：核实经营场所及实际经营情况"),
    "HRSS-08": ("需实地核查：抽查培训机构培训台账、学员签到和考核记录",),
    "HRSS-11": ("需实地核查：核实申请人户籍及是否重复领取养老保险待遇",),
    "HRSS-14": ("需实地核查：核实申领人与死者的亲属关系及其他法定继承人情况",),
    "HRSS-17": ("需实地核查：赴被投诉单位调取考勤记录和工资发放台账",),
    "HRSS-18": ("需专家评审：案情复杂，提请调解委员会合议并邀请劳动法律专家参与",),
}
# 不予许可: why a case was decided against the applicant.
DENY_REASONS: Final = {
    "HRSS-02": ("经核查，申请人在其他用人单位有在职参保记录，不符合失业登记条件",),
    "HRSS-04": (
        "经入户核查，申请人家庭人均收入高于当地最低生活保障标准的1.5倍，不符合就业困难人员认定条件",
        "申请人名下登记有正常经营的个体工商户，不符合就业困难人员认定条件",
    ),
    "HRSS-05": ("申请人享受灵活就业社会保险补贴已满3年，补贴期限届满",),
    "HRSS-07": ("申请人个人信用报告存在未结清的逾期贷款记录，不符合创业担保贷款条件",),
    "HRSS-08": ("培训机构不在本年度职业技能培训定点机构目录内，培训费用不予补贴",),
    "HRSS-11": ("申请人累计缴费不足15年，应补缴至满15年后再申领",),
    "HRSS-14": ("申领人不是死者的直系亲属，且未提供其他法定继承人的委托书",),
    "HRSS-17": ("经调查核实，被投诉单位已于投诉前足额支付工资，欠薪事实不成立",),
    "HRSS-18": ("被申请单位明确拒绝调解，调解终止；已告知申请人可依法申请劳动人事争议仲裁",),
    "HRSS-19": ("经公安部门比对，申请人照片与身份信息不一致，暂不能制卡",),
}
WITHDRAW_WAITING: Final = (
    "申请人表示材料暂时无法补齐，主动申请撤回",
    "申请人已与用人单位协商解决，申请撤回",
    "申请人决定改到户籍所在地办理，申请撤回",
)
WITHDRAW_SUBMITTED: Final = ("申请人已找到工作，申请撤回", "申请人信息填写有误，要求撤回后重新申请")
WITHDRAW_DRAFT: Final = ("同一事项重复建件，申请人要求撤回本件",)
DEFERRED_NOTE: Final = "容缺受理，承诺于 {day} 前补交"
MATERIAL_STEPS: Final = frozenset({"upload", "pledge", "defer"})
PAUSE_OPEN: Final = frozenset({Action.REQUEST_SUPPLEMENT.value, Action.SUSPEND.value})
PAUSE_CLOSE: Final = frozenset({Action.RESUBMIT.value, Action.RESUME.value})


# -- synthetic residents ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Resident:
    id_number: str
    name: str
    phone: str | None
    county: str
    born: date


class _Residents:
    """Made-up residents of each county (valid GB 11643 numbers that belong to nobody); some come back."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.by_county: dict[str, list[Resident]] = {}
        self.numbers: set[str] = set()

    def pick(self, county: str, item: str) -> Resident:
        first, last = BIRTH_YEARS.get(item, WORKING_AGE)
        known = [r for r in self.by_county.get(county, []) if first <= r.born.year <= last]
        if known and self.rng.random() < 0.3:
            return self.rng.choice(known)
        return self._new(county, first, last)

    def _new(self, county: str, first: int, last: int) -> Resident:
        rng = self.rng
        while True:
            born = date(rng.randint(first, last), 1, 1) + timedelta(days=rng.randint(0, 364))
            order = rng.randint(1, 999)
            body = f"{county}{born:%Y%m%d}{order:03d}"
            number = body + id_check_char(body)
            if number not in self.numbers:
                break
        self.numbers.add(number)
        sex = "male" if order % 2 else "female"
        name = rng.choice(SURNAMES) + rng.choice(GIVEN[(sex, born.year < 1980)])
        phone = None if rng.random() < 0.06 else rng.choice(PHONE_PREFIXES) + f"{rng.randint(0, 99_999_999):08d}"
        resident = Resident(number, name, phone, county, born)
        self.by_county.setdefault(county, []).append(resident)
        return resident


# -- material photos -----------------------------------------------------------------------------------


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def scan_png(label: str, width: int = 120, height: int = 84) -> bytes:
    """A small greyscale "photo" of a paper form (lines of text-like strokes), different per label."""
    rng = random.Random(label)  # noqa: S311 - seeded by the material's name: the same picture every run
    paper, ink, edge = 236, 60, 150
    blank = bytes([edge] * 3 + [paper] * (width - 6) + [edge] * 3)
    rows = bytearray()
    for y in range(height):
        if y < 3 or y >= height - 3:
            row = bytes([edge] * width)
        elif (y - 12) % 8 < 3 and 12 <= y < height - 8:
            if (y - 12) % 8 == 0:
                end = 10 + rng.randint(40, width - 24)  # a new line of "text"
            strokes = bytes(ink if x < end and (x // 3) % 6 != 5 else paper for x in range(10, width - 3))
            row = blank[:10] + strokes + blank[width - 3 :]
        else:
            row = blank
        rows += b"\x00" + row  # filter: none
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    body = _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + _chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


# -- planning a case on a timeline in the past ---------------------------------------------------------


class _Days:
    """Working days counted back from today: ``day(n)`` is the latest working day with n working days
    in (day, today] — so an open case accepted on ``day(n)`` has used exactly n working days."""

    def __init__(self, calendar: WorkingCalendar, today: date, earliest: date, now_local: datetime) -> None:
        self.days: list[date] = []
        day = today
        while day >= earliest or not self.days:
            if calendar.is_workday(day):
                self.days.append(day)
            day -= timedelta(days=1)
        self.today = today
        # before noon nothing can have happened today yet (a visit takes a few hours of steps)
        self.lag_min = 1 if self.days[0] == today and now_local.time() < time(12, 20) else 0
        self.lag_min = min(self.lag_min, len(self.days) - 1)
        self.n_max = len(self.days) - 1

    def day(self, n: int) -> date:
        return self.days[max(self.lag_min, min(n, self.n_max))]

    def clamp(self, n: int) -> int:
        return max(self.lag_min, min(n, self.n_max))


@dataclass(slots=True)
class Step:
    kind: str  # "create", "upload", "pledge", "defer", or an Action value
    side: str  # "front" (the accepting desk) or "back" (the deciding unit)
    n: int  # working days before today (see _Days)
    reason: str | None = None
    index: int | None = None  # the material, for material steps
    at: datetime | None = None  # planned instant (UTC), filled in by _schedule


@dataclass(slots=True)
class CasePlan:
    desk: Desk
    item: CatalogItem
    resident: Resident
    target: Status
    signal: Signal | None
    approver_pick: int
    steps: list[Step] = field(default_factory=list)

    @property
    def created_at(self) -> datetime:
        assert self.steps[0].at is not None
        return self.steps[0].at


def _signal_range(promised: int, signal: Signal | None) -> tuple[int, int]:
    """Working days used that give ``signal`` (red overdue; yellow a third or less left)."""
    normal_max = (2 * promised - 1) // 3
    if signal == "red":
        return promised + 1, promised + 5
    if signal == "yellow":
        return normal_max + 1, promised
    return 0, normal_max


class _Planner:
    def __init__(self, rng: random.Random, days: _Days) -> None:
        self.rng = rng
        self.days = days

    def _between(self, low: int, high: int) -> int:
        low, high = self.days.clamp(low), self.days.clamp(high)
        return self.rng.randint(min(low, high), max(low, high))

    def _intake(self, plan: CasePlan, n_created: int, *, submit: bool = True, withhold: bool = False,
                partial: bool = False) -> tuple[list[Step], int | None]:  # fmt: skip
        """Create, the materials, and (usually) submit. A withheld material is the one a supplement asks for:
        either it was not brought at all, or its photo (taken here) cannot be used as it is."""
        rng = self.rng
        steps = [Step("create", "front", n_created)]
        required = [(i, m) for i, m in enumerate(plan.item.materials, start=1) if m["required"]]
        uploadable = [i for i, m in required if not m.get("pledge") and not m.get("deferrable")]
        withheld = rng.choice(uploadable) if withhold and uploadable else None
        chosen = required if not partial else required[: rng.randint(0, max(0, len(required) - 1))]
        for index, material in chosen:
            if index == withheld:
                if rng.random() < 0.4:  # photographed, but unusable: the supplement will say why
                    steps.append(Step("upload", "front", n_created, index=index))
                continue
            if material.get("pledge") and rng.random() < 0.55:
                steps.append(Step("pledge", "front", n_created, index=index))
            elif material.get("deferrable") and rng.random() < 0.5:
                steps.append(Step("defer", "front", n_created, index=index))
            else:
                steps.append(Step("upload", "front", n_created, index=index))
        optional = [i for i, m in enumerate(plan.item.materials, start=1) if not m["required"]]
        if optional and not partial and rng.random() < 0.15:
            steps.append(Step("upload", "front", n_created, index=rng.choice(optional)))
        if submit:
            steps.append(Step(Action.SUBMIT, "front", n_created))
        return steps, withheld

    def _supplement(
        self, plan: CasePlan, intake: list[Step], withheld: int | None, n_asked: int, n_back: int | None
    ) -> list[Step]:
        """补齐补正 naming the withheld material; with ``n_back``, the applicant brings it and resubmits."""
        withheld = withheld or 1
        name = plan.item.materials[withheld - 1]["name"]
        photographed = any(step.kind == "upload" and step.index == withheld for step in intake)
        reason = self.rng.choice(SUPPLEMENT_UNUSABLE if photographed else SUPPLEMENT_MISSING).format(m=name)
        steps = [Step(Action.REQUEST_SUPPLEMENT, "front", n_asked, reason=reason)]
        if n_back is not None:
            steps += [Step("upload", "front", n_back, index=withheld), Step(Action.RESUBMIT, "front", n_back)]
        return steps

    def _accepted(self, plan: CasePlan, n_accept: int) -> list[Step]:
        """Intake (sometimes through a supplement first) up to acceptance on day ``n_accept``."""
        rng = self.rng
        if rng.random() < 0.18 and n_accept + 1 <= self.days.n_max:
            n_created = self._between(n_accept + 1, n_accept + 3)
            steps, withheld = self._intake(plan, n_created, withhold=True)
            if withheld is not None:
                steps += self._supplement(plan, steps, withheld, n_created, n_accept)
                return [*steps, Step(Action.ACCEPT, "front", n_accept)]
            n_accept = n_created
        steps, _ = self._intake(plan, n_accept)
        return [*steps, Step(Action.ACCEPT, "front", n_accept)]

    def plan(self, plan: CasePlan) -> None:
        rng, days = self.rng, self.days
        lag, top = days.lag_min, days.n_max
        item, target = plan.item, plan.target
        promised = item.promised_days
        steps: list[Step]
        if target == Status.DRAFT:
            steps, _ = self._intake(plan, self._between(lag, lag + 4), submit=False, partial=True)
        elif target == Status.SUBMITTED:
            steps, _ = self._intake(plan, self._between(lag, lag + 2))
        elif target == Status.AWAITING_SUPPLEMENT:
            n = self._between(lag, lag + 8)
            steps, withheld = self._intake(plan, n, withhold=True)
            steps += self._supplement(plan, steps, withheld, n, None)
        elif target == Status.REFUSED:
            n = self._between(lag, top)
            steps, _ = self._intake(plan, n, partial=rng.random() < 0.5)
            reason = rng.choice(REFUSE_REASONS.get(item.code, GENERIC_REFUSALS))
            steps.append(Step(Action.REFUSE, "front", self._between(n - 1, n), reason=reason))
        elif target == Status.WITHDRAWN:
            steps = self._withdrawn(plan)
        elif target in (Status.ACCEPTED, Status.IN_REVIEW):
            low, high = _signal_range(promised, plan.signal)
            n_accept = self._between(max(low, lag), high)
            steps = self._accepted(plan, n_accept)
            if target == Status.IN_REVIEW:
                steps.append(Step(Action.ASSIGN, "back", self._between(n_accept - rng.randint(0, 2), n_accept)))
        elif target == Status.SUSPENDED:
            steps = self._suspended(plan)
        else:  # decided: approved, denied, issued, closed
            steps = self._decided(plan)
        plan.steps = steps

    def _withdrawn(self, plan: CasePlan) -> list[Step]:
        rng, lag = self.rng, self.days.lag_min
        n = self._between(lag, self.days.n_max)
        roll = rng.random()
        if roll < 0.5:  # asked for a supplement, then gave up
            steps, withheld = self._intake(plan, n, withhold=True)
            steps += self._supplement(plan, steps, withheld, n, None)
            when = self.days.clamp(n - rng.randint(1, 4))
            return [*steps, Step(Action.WITHDRAW, "front", when, reason=rng.choice(WITHDRAW_WAITING))]
        if roll < 0.8:
            steps, _ = self._intake(plan, n)
            return [*steps, Step(Action.WITHDRAW, "front", n, reason=rng.choice(WITHDRAW_SUBMITTED))]
        steps, _ = self._intake(plan, n, submit=False, partial=True)
        return [*steps, Step(Action.WITHDRAW, "front", n, reason=rng.choice(WITHDRAW_DRAFT))]

    def _suspended(self, plan: CasePlan) -> list[Step]:
        """Accepted on A, suspended on S: the open pause stops the clock from S on, so the working days
        used are those strictly between A and S."""
        rng, days = self.rng, self.days
        low, high = _signal_range(plan.item.promised_days, plan.signal)
        used = rng.randint(low, high)
        n_suspend = days.lag_min + rng.randint(0, 4)
        n_accept = n_suspend + used + 1
        if n_accept > days.n_max:  # a short window: suspend more recently
            n_suspend = max(days.lag_min, n_suspend - (n_accept - days.n_max))
            n_accept = min(days.n_max, n_suspend + used + 1)
        steps = self._accepted(plan, n_accept)
        if rng.random() < 0.6:
            steps.append(Step(Action.ASSIGN, "back", self._between(n_suspend, n_accept - rng.randint(0, 1))))
        reason = rng.choice(SUSPEND_REASONS[plan.item.code])
        return [*steps, Step(Action.SUSPEND, "back", n_suspend, reason=reason)]

    def _decided(self, plan: CasePlan) -> list[Step]:
        rng, days = self.rng, self.days
        item, target = plan.item, plan.target
        promised = item.promised_days
        deny = target == Status.DENIED or (
            target in (Status.ISSUED, Status.CLOSED) and item.code in DENY_REASONS and rng.random() < 0.12
        )
        if promised == 0:  # 即办件: accepted, decided and issued in one visit
            used = pause = 0
            late = False
        else:
            late = target == Status.CLOSED and rng.random() < 0.1
            used = promised + rng.randint(1, 3) if late else rng.randint(1, promised)
            pause = rng.randint(2, 5) if item.code in SUSPEND_REASONS and rng.random() < 0.15 else 0
        issue_gap = 0 if promised == 0 else rng.randint(0, 1)
        close_gap = 0 if promised == 0 or rng.random() < 0.6 else rng.randint(1, 2)
        if target in (Status.APPROVED, Status.DENIED):
            n_decide = days.lag_min + rng.randint(0, 1)
        elif target == Status.ISSUED:
            n_decide = days.lag_min + rng.randint(0, 4) + issue_gap
        else:
            n_decide = self._between(days.lag_min + issue_gap + close_gap, days.n_max - used - pause)
        n_accept = n_decide + used + pause
        if n_accept > days.n_max:  # keep everything inside the window; the gaps shrink first
            shift = n_accept - days.n_max
            n_accept, n_decide = n_accept - shift, max(days.lag_min, n_decide - shift)
        steps = self._accepted(plan, n_accept)
        n_assign = n_accept if promised == 0 else self._between(n_accept - rng.randint(0, 1), n_accept)
        n_assign = max(n_assign, n_decide)
        steps.append(Step(Action.ASSIGN, "back", n_assign))
        if pause:
            n_suspend = self._between(min(n_decide + pause, n_assign), n_assign)
            steps.append(Step(Action.SUSPEND, "back", n_suspend, reason=rng.choice(SUSPEND_REASONS[item.code])))
            steps.append(Step(Action.RESUME, "back", max(n_decide, n_suspend - pause)))
        if deny:
            steps.append(Step(Action.DENY, "back", n_decide, reason=rng.choice(DENY_REASONS[item.code])))
        else:
            steps.append(Step(Action.APPROVE, "back", n_decide))
        if target in (Status.ISSUED, Status.CLOSED):
            n_issue = days.clamp(n_decide - issue_gap)
            steps.append(Step(Action.ISSUE, "front", n_issue))
            if target == Status.CLOSED:
                steps.append(Step(Action.CLOSE, "front", days.clamp(n_issue - close_gap)))
        return steps


def _schedule(plan: CasePlan, days: _Days, rng: random.Random, tz: str, now: datetime) -> None:
    """Office-hours instants for the plan's steps: a visit starts between 08:35 and 15:30, the desk's
    steps follow each other by minutes, the back office's by a quarter to half an hour."""
    zone = ZoneInfo(tz)
    now_local = now.astimezone(zone)
    previous: datetime | None = None
    for step in plan.steps:
        day = days.day(step.n)
        if previous is not None and previous.date() >= day:
            gap = rng.randint(8, 30) if step.side == "back" else rng.randint(1, 5)
            moment = previous + timedelta(minutes=gap, seconds=rng.randint(0, 59))
        else:
            latest = 15 * 60 + 30
            if day == now_local.date():
                latest = min(latest, now_local.hour * 60 + now_local.minute - 240)
            start = rng.randint(8 * 60 + 35, max(8 * 60 + 35, latest))
            moment = datetime.combine(day, time(0), tzinfo=zone) + timedelta(minutes=start, seconds=rng.randint(0, 59))
        previous = moment
        step.at = min(moment.astimezone(UTC), now - timedelta(minutes=1))


def _targets(rng: random.Random, count: int) -> list[tuple[Status, Signal | None]]:
    statuses = list(STATUS_WEIGHTS)
    chosen: list[tuple[Status, Signal | None]] = list(MUST_HAVE[:count])
    for status in rng.choices(statuses, weights=[STATUS_WEIGHTS[s] for s in statuses], k=count - len(chosen)):
        signal: Signal | None = None
        if status in CLOCKED:
            options = SIGNAL_WEIGHTS[status]
            signal = rng.choices(list(options), weights=list(options.values()))[0]
        chosen.append((status, signal))
    return chosen


def _fits(item: CatalogItem, status: Status, signal: Signal | None, days: _Days) -> bool:
    if status == Status.SUSPENDED:
        return item.code in SUSPEND_REASONS and _signal_range(item.promised_days, signal)[0] + 1 <= days.n_max
    if status in CLOCKED:
        return item.promised_days > 0 and _signal_range(item.promised_days, signal)[0] <= days.n_max
    if status == Status.DENIED:
        return item.code in DENY_REASONS
    return True


def _plans(rng: random.Random, count: int, desk_items: dict[str, list[CatalogItem]], days: _Days) -> list[CasePlan]:
    residents = _Residents(rng)
    planner = _Planner(rng, days)
    plans = []
    for status, signal in _targets(rng, count):
        for _attempt in range(50):
            desk = rng.choices(DESKS, weights=[d.weight for d in DESKS])[0]
            candidates = [i for i in desk_items[desk.username] if _fits(i, status, signal, days)]
            if candidates:
                break
        else:  # pragma: no cover - every state fits at a township window, whose grants cover all 20 items
            raise RuntimeError(f"no demo desk may accept an item fit for {status.value}")
        item = rng.choices(candidates, weights=[ITEM_WEIGHTS.get(i.code, 1) for i in candidates])[0]
        resident = residents.pick(desk.county, item.code)
        plan = CasePlan(desk, item, resident, status, signal, rng.randrange(1000))
        planner.plan(plan)
        plans.append(plan)
    return plans


# -- running the plans through the services ---------------------------------------------------------------


@dataclass(slots=True)
class _Run:
    """What every batch needs: who is who, the calendar, the stored photos."""

    tenant_id: int
    tz: str
    catalog: Catalog
    registry: AuthorityRegistry
    cipher: PersonalDataCipher
    calendar: WorkingCalendar
    actors: dict[str, Actor]
    approvers: dict[str, list[str]]
    photos: dict[str, dict[str, Any]]
    store: LocalFileStore
    today: date
    seen_applicants: set[int] = field(default_factory=set)
    signals: Counter[str] = field(default_factory=Counter)

    async def photo(self, name: str) -> dict[str, Any]:
        if name not in self.photos:
            data = scan_png(name)
            content_type = sniff_upload(data, "image/png", f"{name}.png")  # the same check as an upload
            self.photos[name] = msgspec.to_builtins(await self.store.put(data, content_type=content_type))
        return self.photos[name]


async def _ensure_staff(session: AsyncSession) -> list[DemoStaff]:
    added = []
    repository = StaffRepository(session)
    for member in EXTRA_STAFF:
        if await repository.by_username(member.username) is None:
            await add_staff(
                session, username=member.username, tenant_code=member.tenant, unit_code=member.unit,
                roles=[member.role], password=DEMO_PASSWORD, display_name=member.display_name, added_by="demo",
            )  # fmt: skip
            added.append(member)
    return added


async def _actors(session: AsyncSession, tenant_code: str) -> dict[str, Actor]:
    tenant = await TenantRepository(session).by_code(tenant_code)
    assert tenant is not None
    actors = {}
    for member in (*DEMO_STAFF, *EXTRA_STAFF):
        if member.tenant != tenant_code:
            continue
        staff = await StaffRepository(session).by_username(member.username)
        assert staff is not None, "demo staff are added before demo cases"
        roles = frozenset(role.role for role in staff.roles) or frozenset({member.role})
        scope = scope_for(tenant.id, tenant.code, staff.unit_code, tenant.timezone)
        actors[member.username] = Actor(staff.id, staff.username, staff.display_name, staff.unit_code, roles, scope)
    return actors


async def _desk_items(
    session: AsyncSession, run: _Run, registry: AuthorityRegistry, now: datetime
) -> dict[str, list[CatalogItem]]:
    """The items each desk may accept today, by the grants actually in force."""
    found: dict[str, list[CatalogItem]] = {}
    for desk in DESKS:
        found[desk.username] = [
            item
            for item in run.catalog.items.values()
            if await authority.unit_may(session, registry, run.tenant_id, desk.unit, item.code, "accept", now)
        ]
    return found


async def _execute(session: AsyncSession, run: _Run, plan: CasePlan) -> Case:
    """Drive one plan through the case services, step by step, as the staff who would do each step."""

    def context(username: str) -> services.CaseContext:
        return services.CaseContext(
            session, run.actors[username], run.catalog, run.registry, run.cipher, REQUEST_ID, run.calendar
        )

    front = context(plan.desk.username)
    applicant = ApplicantWrite(id_number=plan.resident.id_number, name=plan.resident.name, phone=plan.resident.phone)
    file, _created = await services.create_case(
        front, CaseCreate(item=plan.item.code, unit=plan.desk.unit, applicant=applicant), None
    )
    case = file.case
    for step in plan.steps[1:]:
        if step.kind == "upload":
            assert step.index is not None
            name = plan.item.materials[step.index - 1]["name"]
            await services.attach_upload(front, case.id, step.index, await run.photo(name))
        elif step.kind == "pledge":
            assert step.index is not None
            await services.set_material(front, case.id, step.index, MaterialRequest(pledge=True))
        elif step.kind == "defer":
            assert step.index is not None
            until = run.calendar.add_working_days(run.today, 1)  # re-dated by _backdate
            await services.set_material(front, case.id, step.index, MaterialRequest(defer_until=until))
        else:
            if step.side == "front":
                ctx = front
            else:
                assert case.routed_to is not None
                staff = run.approvers[case.routed_to]
                ctx = context(staff[plan.approver_pick % len(staff)])
            case = (await services.transition(ctx, case.id, Action(step.kind), step.reason, case.version)).case
    return case


def _stamp(step: Step) -> datetime:
    assert step.at is not None
    return step.at


async def _backdate(session: AsyncSession, run: _Run, batch: list[tuple[CasePlan, Case]]) -> None:
    """Move each case's timeline into the past, consistently, in one place (see the module docstring)."""
    repository = CaseRepository(session)
    # receipt numbers first, from the per-unit, per-day counter, in the order the cases entered
    numbers = []
    for plan, case in batch:
        entered = local_date(plan.created_at, run.tz)
        sequence = await ReceiptCounterRepository(session).take(run.tenant_id, case.accepting_unit, entered)
        numbers.append(receipt_no(case.accepting_unit, entered, sequence))
    ids = [case.id for _plan, case in batch]
    events_of: dict[int, list[CaseEvent]] = {case_id: [] for case_id in ids}
    for event in await session.scalars(
        select(CaseEvent).where(CaseEvent.case_id.in_(ids)).order_by(CaseEvent.case_id, CaseEvent.seq)
    ):
        events_of[event.case_id].append(event)
    pauses_of = await repository.pauses(ids)
    materials_of = await repository.materials_of(ids)
    applicants = await ApplicantRepository(session).many([case.applicant_id for _plan, case in batch])
    today = local_date(utcnow(), run.tz)
    for (plan, case), number in zip(batch, numbers, strict=True):
        case.receipt_no = number
        _backdate_case(run, plan, case, events_of[case.id], pauses_of[case.id], materials_of[case.id])
        if case.applicant_id not in run.seen_applicants:  # first seen with its earliest case
            run.seen_applicants.add(case.applicant_id)
            applicants[case.applicant_id].created_at = case.created_at
        if case.status in CLOCKED:
            run.signals[reads.timing(case, pauses_of[case.id], run.calendar, today, run.tz).signal] += 1


def _backdate_case(
    run: _Run, plan: CasePlan, case: Case, events: list[CaseEvent], pauses: list[CasePause],
    materials: list[CaseMaterial],
) -> None:  # fmt: skip
    calendar, tz = run.calendar, run.tz
    assert len(events) == len(plan.steps), "one trace event per step"
    for event, step in zip(events, plan.steps, strict=True):
        assert event.action == ("material" if step.kind in MATERIAL_STEPS else step.kind)
        event.at = _stamp(step)
    last = {step.kind: _stamp(step) for step in plan.steps}
    case.created_at = plan.created_at
    if Action.ACCEPT.value in last:
        case.accepted_at = last[Action.ACCEPT.value]
        case.accepted_on = local_date(case.accepted_at, tz)
        case.deadline = calendar.add_working_days(case.accepted_on, case.promised_days)
        for event in events:
            if event.action == Action.ACCEPT.value:
                event.detail = {**event.detail, "deadline": case.deadline.isoformat()}
    case.decided_at = last.get(Action.APPROVE.value) or last.get(Action.DENY.value)
    case.issued_at = last.get(Action.ISSUE.value)
    case.closed_at = last.get(Action.CLOSE.value)

    # pauses (补正, 特别程序), in the order the steps opened them; a withdrawal ends an open one
    spans: list[tuple[date, date | None]] = []
    for step in plan.steps:
        day = local_date(_stamp(step), tz)
        if step.kind in PAUSE_OPEN:
            spans.append((day, None))
        elif (step.kind in PAUSE_CLOSE or step.kind == Action.WITHDRAW.value) and spans and spans[-1][1] is None:
            spans[-1] = (spans[-1][0], day)
    assert len(pauses) == len(spans), "one pause per supplement or special procedure"
    for pause, (started, ended) in zip(pauses, spans, strict=True):
        pause.started_on, pause.ended_on = started, ended

    # materials: when each was last touched; a deferral's due date counted from the back-dated day
    touched = {step.index: step for step in plan.steps if step.kind in MATERIAL_STEPS}
    for material in materials:
        last_touch = touched.get(material.index)
        material.updated_at = _stamp(last_touch) if last_touch else case.created_at
        if material.state == "deferred" and last_touch is not None:
            deferred_on = local_date(_stamp(last_touch), tz)
            material.defer_until = calendar.add_working_days(deferred_on, max(1, case.promised_days // 2))
            material.note = DEFERRED_NOTE.format(day=material.defer_until.isoformat())


async def add_demo_cases(
    session_maker: async_sessionmaker[AsyncSession],
    registry: AuthorityRegistry,
    secret_key: str,
    data_dir: Path,
    progress: Callable[[str], None],
    *,
    count: int = 300,
    seed: int = 2026,
) -> dict[str, int]:
    """Create ``count`` demo cases in tenant 64 (after ``add_demo_grants``); return how many per status.

    Deterministic for a given ``seed`` and day: the plan depends only on the seed, the working-day
    calendar and whether it is past noon today (the query codes are random, as for live cases).
    Cases are created in the order they entered, so ids and receipt numbers follow time. Extra demo
    staff (``EXTRA_STAFF``) are enrolled if missing. If the tenant already has cases, nothing is
    added and ``{}`` is returned.
    """
    now = utcnow()
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not a secret
    cipher = PersonalDataCipher(secret_key)
    store = LocalFileStore(data_dir / "files")
    async with session_scope(session_maker) as session:
        tenant = await TenantRepository(session).by_code(TENANT)
        assert tenant is not None, "the tenant is seeded before demo cases"
        existing = await session.scalar(select(func.count()).select_from(Case).where(Case.tenant_id == tenant.id))
        if existing:
            progress(f"已有 {existing} 件办件，不再生成演示办件")
            return {}
        added = await _ensure_staff(session)
        if added:
            progress(f"增设演示审批人员等 {len(added)} 人：{'、'.join(m.username for m in added)}")
        actors = await _actors(session, TENANT)
        approvers: dict[str, list[str]] = {}
        for member in (*DEMO_STAFF, *EXTRA_STAFF):
            if member.tenant == TENANT and member.role == "approver":
                approvers.setdefault(member.unit, []).append(member.username)
        run = _Run(
            tenant_id=tenant.id, tz=tenant.timezone, catalog=await catalog_services.current(session, tenant.id),
            registry=registry, cipher=cipher, calendar=await calendar_for(session, tenant.id), actors=actors,
            approvers=approvers, photos={}, store=store, today=local_date(now, tenant.timezone),
        )  # fmt: skip
        desk_items = await _desk_items(session, run, registry, now)
        if not all(desk_items.values()):
            idle = [desk.username for desk in DESKS if not desk_items[desk.username]]
            raise RuntimeError(f"demo desks {', '.join(idle)} hold no acceptance grant: run add_demo_grants first")

    earliest = max(run.today - timedelta(days=WINDOW_DAYS), PILOT_START)
    days = _Days(run.calendar, run.today, earliest, now.astimezone(ZoneInfo(run.tz)))
    plans = _plans(rng, count, desk_items, days)
    for plan in plans:
        _schedule(plan, days, rng, run.tz, now)
    plans.sort(key=lambda p: p.created_at)
    progress(f"生成演示办件 {len(plans)} 件（{days.day(days.n_max).isoformat()} 起，时间线已前移，见审计记录）")

    counts: Counter[str] = Counter()
    for start in range(0, len(plans), BATCH):
        async with session_scope(session_maker) as session:
            batch = []
            for plan in plans[start : start + BATCH]:
                case = await _execute(session, run, plan)
                assert case.status == plan.target, f"planned {plan.target}, got {case.status}"
                batch.append((plan, case))
                counts[str(case.status)] += 1
            await _backdate(session, run, batch)
            if start + BATCH >= len(plans):
                await append(session, AuditEntry(
                    action="demo.cases_backdated", tenant_id=run.tenant_id, actor="demo", request_id=REQUEST_ID,
                    detail={"cases": len(plans), "seed": seed, "from": plans[0].created_at.isoformat(),
                            "to": plans[-1].created_at.isoformat(),
                            "note": "演示数据：办件时间线已整体前移（审计记录时间为实际生成时间）"},
                ))  # fmt: skip
        progress(f"已生成 {min(start + BATCH, len(plans))}/{len(plans)} 件")
    signals = run.signals
    progress(f"在办件期限预警：正常 {signals['normal']}，黄灯 {signals['yellow']}，红灯 {signals['red']}")
    log.info("demo_cases_created", cases=len(plans), **{str(k): v for k, v in counts.items()})
    return {status.value: counts[status.value] for status in Status}


__all__ = ["DESKS", "EXTRA_STAFF", "add_demo_cases", "scan_png"]
