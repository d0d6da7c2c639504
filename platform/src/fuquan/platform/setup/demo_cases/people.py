"""Who the demo cases are about and who handles them: the desks, the synthetic residents, and the photos
of their documents."""

from __future__ import annotations

import random
import struct
import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

import structlog

from fuquan.platform.cases.schemas import Signal
from fuquan.platform.cases.state_machine import Action, Status
from fuquan.platform.core.personal import id_check_char
from fuquan.platform.setup.demo import DemoStaff

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
    Status.DRAFT: 5, Status.REFUSED: 6, Status.WITHDRAWN: 5, Status.CORRECTING: 3, Status.REVOKED: 1,
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
# 审查中补正: what a reviewer finds wrong in materials the front desk accepted
CORRECTION_REASONS: Final = (
    "审查发现劳动合同复印件缺页，请补正完整复印件",
    "申请表所填银行账号与社会保障卡账号不一致，请核对后补正",
    "所附证明出具日期已超过三个月，请补正近期出具的证明",
)
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
REVOKE_REASONS: Final = (
    "经核查，申请人隐瞒已在外省办理同一事项的情况，以欺骗手段取得准予决定，依照行政许可法第六十九条予以撤销",
    "申请人提交的劳动合同经用人单位确认系伪造，原准予决定依法撤销",
    "经行政复议，原准予决定被复议机关撤销（宁人社复决〔2026〕3号）",
)
DEFERRED_NOTE: Final = "容缺受理，承诺于 {day} 前补交"
MATERIAL_STEPS: Final = frozenset({"upload", "pledge", "defer"})
PAUSE_OPEN: Final = frozenset({Action.REQUEST_SUPPLEMENT.value, Action.SUSPEND.value, Action.REQUEST_CORRECTION.value})
PAUSE_CLOSE: Final = frozenset({Action.RESUBMIT.value, Action.RESUME.value})


# -- synthetic residents ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Resident:
    id_number: str
    name: str
    phone: str | None
    county: str
    born: date


class Residents:
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


# -- what residents write on the application form (申请表), by field name: plausible, never real --------------

FORM_TEXTS: Final = {
    "employer": ("石嘴山市恒达商贸有限公司", "宁夏金石建材有限公司", "大武口区惠民家政服务部"),
    "former_employer": ("石嘴山市恒达商贸有限公司", "宁夏宝丰能源集团股份有限公司（外包）", "平罗县顺通物流有限公司"),
    "address": ("宁夏石嘴山市大武口区长胜街道朝阳小区3号楼2单元501室", "宁夏石嘴山市平罗县城关镇南街12号"),
    "household_address": ("宁夏石嘴山市大武口区星海镇富民村三组", "宁夏石嘴山市惠农区红果子镇红果子村"),
    "residence": ("宁夏石嘴山市大武口区青山街道游艺东街7号", "宁夏银川市金凤区满城北街阅海万家C区"),
    "mailing_address": ("宁夏石嘴山市大武口区长胜街道朝阳小区3号楼2单元501室",),
    "business_name": ("社区便民早餐店", "手机维修服务部", "农家乐餐饮"),
    "business_address": ("大武口区朝阳西街18号商铺", "平罗县城关镇鼓楼东街5号"),
    "flexible_job": ("网约车司机", "家政服务员", "外卖配送员"),
    "desired_job": ("仓库管理员", "保洁员", "厨师", "电工"),
    "training_trade": ("中式烹调师", "育婴员", "电工"),
    "training_provider": ("石嘴山市职业技能培训中心", "大武口区阳光职业培训学校"),
    "employer_address": ("大武口区工业园区金石路6号", "惠农区河滨街道兴民路22号"),
    "owed_period": ("2026年8月至10月", "2026年6月至9月"),
    "bank_name": ("宁夏黄河农村商业银行", "中国农业银行石嘴山分行", "中国建设银行大武口支行"),
}
FORM_LONG_TEXTS: Final = {
    "skills": "有叉车操作证，做过三年仓库管理。",
    "facts": "在该公司工地务工，约定月工资5000元，工程结束后公司以资金周转困难为由拖欠至今。",
    "claim": "请求用人单位支付拖欠的加班费及解除劳动合同经济补偿金。",
}


def example_form(fields: list[dict[str, object]], id_number: str, rng: random.Random, today: date) -> dict[str, object]:
    """A filled-in application form for ``fields`` (the item's declared fields): every required field, and
    about half of the optional ones."""
    form: dict[str, object] = {}
    for field in fields:
        name, kind = str(field["name"]), str(field["type"])
        if not field.get("required") and rng.random() < 0.5:
            continue
        if kind == "choice":
            form[name] = rng.choice(list(field["options"]))  # type: ignore[call-overload]
        elif kind == "date":
            form[name] = (today - timedelta(days=rng.randint(10, 400))).isoformat()
        elif kind == "number":
            form[name] = 2026 if name.endswith("year") else rng.randint(1, 6)
        elif kind == "money":
            form[name] = f"{rng.randrange(1500, 60000, 100)}.00"
        elif kind == "phone":
            form[name] = f"{rng.choice(PHONE_PREFIXES)}{rng.randint(0, 99_999_999):08d}"
        elif kind == "id_number":
            form[name] = id_number
        elif kind == "bank_account":
            form[name] = f"6228480{rng.randint(0, 10**12 - 1):012d}"
        elif kind == "long_text":
            form[name] = FORM_LONG_TEXTS.get(name, "详见申请人提交的材料。")
        elif name == "certificate_no":
            form[name] = f"{rng.randint(10**15, 10**16 - 1)}"
        else:
            form[name] = rng.choice(FORM_TEXTS.get(name, ("（演示）",)))
    return form
