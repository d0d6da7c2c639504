"""The work of a dataset call: read the query, check the grant, answer each subject from what Fuquan holds."""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.core.errors import BadRequest, FuquanError, NotFound
from fuquan.platform.core.keys.ciphers import TenantCipher
from fuquan.platform.core.keys.services import KeyRing
from fuquan.platform.core.personal import parse_resident_id
from fuquan.platform.core.timeutil import local_date, utcnow
from fuquan.platform.core.validation_messages import in_chinese
from fuquan.platform.share.repositories import HeldRecords, SubjectRepository
from fuquan.platform.share.schemas import BATCH_LIMIT, DATASETS, FEED_DATASET, BatchQuery, SubjectQuery, VerifyQuery
from fuquan.platform.share.services.answers import KEPT_ANSWERS, Subject, answer, known_about
from fuquan.platform.share.services.calls import Caller, CallRecord
from fuquan.platform.share.services.directory import ShareDirectory
from fuquan.platform.share.services.grants import Access, access

_Query = TypeVar("_Query", VerifyQuery, BatchQuery)
ANSWERED_FROM = "依据本平台办结记录及留存的人社业务系统核验结果作答"


def dataset_or_404(code: str) -> str:
    if code not in DATASETS or code == FEED_DATASET:
        raise NotFound(f"没有数据集 {code}；可调用的有：{'、'.join(c for c in DATASETS if c != FEED_DATASET)}",
                       rule="share_dataset")  # fmt: skip
    return code


def _decode(body: bytes, kind: type[_Query]) -> _Query:
    try:
        return msgspec.json.decode(body, type=kind)
    except msgspec.ValidationError as error:
        raise BadRequest(f"请求体不符合要求：{in_chinese(str(error))}", rule="share_body") from None
    except msgspec.DecodeError:
        raise BadRequest("请求体不是有效的 JSON", rule="share_body") from None


def _subject(query: SubjectQuery, dataset: str, today: date, cipher: TenantCipher, position: str) -> Subject:
    if (query.id_number is None) == (query.receipt_no is None):
        what = "id_number 或 receipt_no 之一" if dataset == "cases/results" else "id_number"
        raise BadRequest(f"{position}应给出 {what}", rule="share_subject")
    if query.receipt_no is not None and dataset != "cases/results":
        raise BadRequest(f"{position}：只有办件结果查询（cases/results）可按办件编号查询", rule="share_subject")
    on = query.on or today
    if on > today:
        raise BadRequest(f"{position}的核验日期 {on} 晚于今天", rule="share_date")
    if query.id_number is None:
        return Subject(None, query.receipt_no, on, None)
    try:
        number = parse_resident_id(query.id_number, today=today).number
    except FuquanError as error:
        raise BadRequest(f"{position}：{error.detail}", rule="share_id_number") from None
    return Subject(number, None, on, cipher.blind_index(number))


def _queries(body: bytes, batch: bool) -> tuple[list[SubjectQuery], list[str]]:
    if batch:
        query = _decode(body, BatchQuery)
        if not query.subjects:
            raise BadRequest("subjects 不能为空", rule="share_batch_size")
        if len(query.subjects) > BATCH_LIMIT:
            raise BadRequest(f"一次最多核验 {BATCH_LIMIT} 人，本次 {len(query.subjects)} 人，请分批调用",
                             rule="share_batch_size")  # fmt: skip
        return query.subjects, query.fields or []
    one = _decode(body, VerifyQuery)
    return [one], one.fields or []


async def _held(session: AsyncSession, caller: Caller, dataset: str, subjects: list[Subject]) -> HeldRecords:
    repository = SubjectRepository(session)
    indexes = [s.index for s in subjects if s.index is not None]
    receipts = [s.receipt_no for s in subjects if s.receipt_no is not None]
    held = await repository.held(caller.scope, indexes, KEPT_ANSWERS.get(dataset, ())) if indexes else None
    if receipts:
        by_receipt = await repository.by_receipts(caller.scope, receipts)
        if held is None:
            return by_receipt
        return HeldRecords(held.applicants + by_receipt.applicants, held.cases + by_receipt.cases, held.records,
                           held.evidence, {**held.decisions, **by_receipt.decisions})  # fmt: skip
    return held or HeldRecords([], [], [], [], {})


async def verify(
    session: AsyncSession, keys: KeyRing, directory: ShareDirectory | None, caller: Caller, record: CallRecord,
    dataset: str, body: bytes, *, batch: bool,
) -> tuple[Any, str]:  # fmt: skip
    """核验: the answers for one subject (or a batch), each with only what the grant allows (the grants as kept by
    ``directory``, or as stored now without one)."""
    queries, fields = _queries(body, batch)
    cipher = await keys.cipher(caller.scope, session)
    today = local_date(utcnow(), caller.scope.timezone)
    subjects = [
        _subject(q, dataset, today, cipher, f"第 {n} 个对象" if batch else "查询对象") for n, q in enumerate(queries, 1)
    ]
    record.subjects = [s.index for s in subjects if s.index is not None]
    allowed: Access = await (
        access(session, caller.app, dataset, caller.purpose, fields) if directory is None
        else directory.access(caller.scope, caller.app, dataset, caller.purpose, fields)
    )  # fmt: skip
    held = await _held(session, caller, dataset, subjects)
    record.subjects += [a.id_index for a in held.applicants if a.id_index not in record.subjects]
    tz = caller.scope.timezone
    answers = [answer(s, known_about(held, s, allowed, tz), allowed, cipher) for s in subjects]
    if batch:
        return {"count": len(answers), "results": answers}, ANSWERED_FROM
    return answers[0], ANSWERED_FROM
