"""What a partner department may be granted (数据共享目录): datasets, each with its closed list of purposes and its
fields. Verification first (核验优先于查询): a dataset answers the question asked — "registered unemployed: yes,
since 2026-03-02" — and the personal fields (ID number, name) are separate fields a grant must name to see them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Annotated, Final

import msgspec

# purposes (用途) a grant may name, in the words of the law or agreement that allows them
PURPOSES: Final = MappingProxyType({
    "dibao_eligibility": "最低生活保障审核确认",
    "tekun_eligibility": "特困人员救助供养审核",
    "court_enforcement": "法院执行查控",
    "public_security_check": "公安机关依法核查",
    "employment_service": "就业服务与帮扶",
    "supervision": "政务服务监督（电子监察）",
    "service_statistics": "政务服务统计分析",
})  # fmt: skip

PERSONAL_FIELDS: Final = frozenset({"id_number", "name"})  # masked in every answer unless granted by name


@dataclass(frozen=True, slots=True)
class Dataset:
    code: str
    title: str
    purposes: tuple[str, ...]
    fields: MappingProxyType[str, str]


def _dataset(code: str, title: str, purposes: tuple[str, ...], fields: dict[str, str]) -> Dataset:
    return Dataset(code, title, purposes, MappingProxyType({**fields, "id_number": "身份证号码", "name": "姓名"}))


DATASETS: Final = MappingProxyType({
    dataset.code: dataset
    for dataset in (
        _dataset("employment/unemployment_registration", "失业登记核验",
                 ("dibao_eligibility", "tekun_eligibility", "court_enforcement", "employment_service"),
                 {"registered": "是否登记失业", "since": "登记失业日期", "unit": "登记地（统计用区划代码）"}),
        _dataset("employment/difficulty_recognition", "就业困难人员认定核验",
                 ("dibao_eligibility", "tekun_eligibility", "employment_service"),
                 {"recognised": "是否认定为就业困难人员", "category": "认定类别", "valid_until": "认定有效期至"}),
        _dataset("insurance/resident_pension", "城乡居民基本养老保险参保与待遇核验",
                 ("dibao_eligibility", "tekun_eligibility", "court_enforcement", "public_security_check"),
                 {"enrolled": "是否参保", "receiving": "是否领取待遇", "since": "参保（领取）起始日期"}),
        _dataset("cards/social_security_card", "社会保障卡状态核验",
                 ("court_enforcement", "public_security_check", "employment_service"),
                 {"status": "卡状态（正常/挂失/未申领）"}),
        _dataset("cases/results", "办件结果查询",
                 ("supervision", "dibao_eligibility", "court_enforcement"),
                 {"receipt_no": "办件编号", "item": "事项", "decision": "办理结果", "decided_at": "办结时间"}),
        _dataset("cases/feed", "办件过程信息推送（办件流）",
                 ("supervision", "service_statistics"),
                 {"item_code": "事项编码", "item_name": "事项名称", "case_no": "办件编号", "event": "办理环节",
                  "event_at": "环节时间", "status": "办件状态", "unit_code": "办理单位代码", "unit_name": "办理单位",
                  "accepted_on": "受理日期", "promised_days": "承诺时限（工作日）", "deadline": "承诺办结日期",
                  "result": "办理结果"}),
    )
})  # fmt: skip

BATCH_LIMIT: Final = 100  # subjects in one batch call (the monthly 低保 re-checks come in batches)
FEED_DATASET: Final = "cases/feed"


class SubjectQuery(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One resident asked about: by ``id_number``, or (``cases/results`` only) by a case's ``receipt_no``; as on
    the day ``on`` (default today)."""

    id_number: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    receipt_no: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    on: date | None = None


class VerifyQuery(SubjectQuery, forbid_unknown_fields=True, kw_only=True):
    """单个核验: one subject; ``fields`` narrows the answer to some of the granted fields (default: all granted)."""

    fields: list[Annotated[str, msgspec.Meta(max_length=32)]] | None = None


class BatchQuery(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """批量核验: up to 100 subjects, answered in the order given."""

    subjects: list[SubjectQuery]
    fields: list[Annotated[str, msgspec.Meta(max_length=32)]] | None = None
