"""核验优先于查询: each dataset answers the question asked about one resident — "registered unemployed on that day?
since when?" — from what Fuquan holds: registrations and recognitions decided through it (人社自有数据), its cases
and their decisions, and the HRSS core system's answers kept as evidence on those cases.

A grant's region limits the answer to what was recorded in that region: a resident known only elsewhere is
answered exactly as one Fuquan knows nothing about (``on_record: false``). Personal fields are masked unless the
grant names them; only the fields granted (or asked for) are in an answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from fuquan.integrations.models import HrssRecord
from fuquan.platform.cases.models import Applicant, Case, CaseEvidence, applicant_context
from fuquan.platform.core.keys.ciphers import TenantCipher
from fuquan.platform.core.personal import mask_id_number
from fuquan.platform.core.timeutil import local_date
from fuquan.platform.share.repositories import HeldRecords
from fuquan.platform.share.services.grants import Access

# the HRSS core system's answers (CaseEvidence.evidence) each dataset reads besides Fuquan's own records
KEPT_ANSWERS: dict[str, tuple[str, ...]] = {
    "employment/unemployment_registration": ("unemployment_registration",),
    "employment/difficulty_recognition": ("employment_difficulty",),
    "cards/social_security_card": ("card_bank_account",),
}

# catalogue items whose issued cases change a resident's pension or card (HRSS township catalogue)
PENSION_ENROLMENT, PENSION_BENEFIT, PENSION_ENDED = "HRSS-09", "HRSS-11", "HRSS-13"
CARD_APPLIED, CARD_SERVICE = "HRSS-19", "HRSS-20"
CARD_SERVICE_STATUS = {"挂失": "lost", "解挂": "normal", "补卡": "normal", "换卡": "normal"}
DECISION_NAMES = {"approve": "准予", "deny": "不予许可", "refuse": "不予受理"}


@dataclass(frozen=True, slots=True)
class Subject:
    """One resident asked about: by ID number (its blind index found the records) or, for case results, by the
    case's receipt number; on a day (default: today in the tenant's time zone)."""

    id_number: str | None
    receipt_no: str | None
    on: date
    index: str | None


@dataclass(frozen=True, slots=True)
class Known:
    """What is held about one resident inside the grant's region."""

    applicant: Applicant | None
    cases: list[Case]
    records: list[HrssRecord]
    evidence: list[CaseEvidence]
    decisions: dict[int, str]
    tz: str

    def issued_on(self, case: Case) -> date | None:
        return None if case.issued_at is None else local_date(case.issued_at, self.tz)

    def granted(self, item_code: str, on: date) -> list[tuple[date, Case]]:
        """The cases for ``item_code`` approved and issued by ``on``, by issue date."""
        found = []
        for case in self.cases:
            day = self.issued_on(case)
            approved = self.decisions.get(case.id) == "approve"
            if case.item_code == item_code and approved and day is not None and day <= on:
                found.append((day, case))
        return sorted(found, key=lambda pair: pair[0])


def _in_force(records: Iterable[HrssRecord], kind: str, on: date) -> HrssRecord | None:
    found = [r for r in records if r.kind == kind and r.since <= on and (r.until is None or r.until >= on)]
    return found[-1] if found else None


def _kept(known: Known, evidence: str, on: date) -> CaseEvidence | None:
    """The latest kept core-system answer of this kind known by ``on`` (its answer was true when fetched)."""
    found = [e for e in known.evidence if e.evidence == evidence and e.fetched_at is not None
             and local_date(e.fetched_at, known.tz) <= on]  # fmt: skip
    return found[-1] if found else None


def _iso(day: date | str | None) -> str | None:
    return day.isoformat() if isinstance(day, date) else day


def _unemployment(known: Known, on: date) -> dict[str, Any]:
    record = _in_force(known.records, "unemployment_registration", on)
    if record is not None:
        return {"registered": True, "since": record.since.isoformat(), "unit": record.unit_code}
    kept = _kept(known, "unemployment_registration", on)
    if kept is not None and kept.status == "satisfied":
        return {"registered": True, "since": _iso(kept.facts.get("since")), "unit": None}
    return {"registered": False, "since": None, "unit": None}


def _difficulty(known: Known, on: date) -> dict[str, Any]:
    record = _in_force(known.records, "employment_difficulty", on)
    if record is not None:
        case = next((c for c in known.cases if c.receipt_no == record.receipt_no), None)
        category = None if case is None else case.form.get("difficulty_type")
        return {"recognised": True, "category": category, "valid_until": _iso(record.until)}
    kept = _kept(known, "employment_difficulty", on)
    if kept is not None and kept.status == "satisfied":
        return {"recognised": True, "category": None, "valid_until": None}
    return {"recognised": False, "category": None, "valid_until": None}


def _pension(known: Known, on: date) -> dict[str, Any]:
    enrolled = known.granted(PENSION_ENROLMENT, on)
    ended = known.granted(PENSION_ENDED, on)
    benefit = known.granted(PENSION_BENEFIT, on)
    last_end = ended[-1][0] if ended else None
    starts = [day for day, _ in enrolled + benefit if last_end is None or day > last_end]
    receiving = [day for day, _ in benefit if last_end is None or day > last_end]
    since = (receiving or starts)[0] if starts else None
    return {"enrolled": bool(starts), "receiving": bool(receiving), "since": _iso(since)}


def _card(known: Known, on: date) -> dict[str, Any]:
    """The latest of: the card issued (normal), a card service done through Fuquan, a kept core-system answer."""
    events: list[tuple[date, str]] = [(day, "normal") for day, _ in known.granted(CARD_APPLIED, on)]
    for day, case in known.granted(CARD_SERVICE, on):
        events.append((day, CARD_SERVICE_STATUS.get(str(case.form.get("service")), "normal")))
    kept = _kept(known, "card_bank_account", on)
    if kept is not None and kept.fetched_at is not None:
        state = {"satisfied": "normal", "not_found": "none"}.get(kept.status) or str(kept.facts.get("card_status"))
        events.append((local_date(kept.fetched_at, known.tz), state))
    events.sort(key=lambda pair: pair[0])
    return {"status": events[-1][1] if events else "none"}


def _results(known: Known, _on: date) -> dict[str, Any]:
    decided = [c for c in known.cases if c.id in known.decisions]
    return {"cases": [
        {"receipt_no": c.receipt_no, "item": c.item_code, "decision": DECISION_NAMES[known.decisions[c.id]],
         "decided_at": _iso(None if c.decided_at is None else local_date(c.decided_at, known.tz))}
        for c in decided
    ]}  # fmt: skip


ANSWERS: dict[str, Callable[[Known, date], dict[str, Any]]] = {
    "employment/unemployment_registration": _unemployment,
    "employment/difficulty_recognition": _difficulty,
    "insurance/resident_pension": _pension,
    "cards/social_security_card": _card,
    "cases/results": _results,
}


def _inside(code: str, regions: tuple[str, ...] | None) -> bool:
    return regions is None or any(code.startswith(region) for region in regions)


def known_about(held: HeldRecords, subject: Subject, access: Access, tz: str) -> Known:
    """The part of ``held`` about ``subject`` recorded inside the grant's region."""
    regions = access.regions
    if subject.receipt_no is not None:
        cases = [c for c in held.cases if c.receipt_no == subject.receipt_no and _inside(c.accepting_unit, regions)]
        applicant_ids = {c.applicant_id for c in cases}
    else:
        applicant_ids = {a.id for a in held.applicants if a.id_index == subject.index}
        cases = [c for c in held.cases if c.applicant_id in applicant_ids and _inside(c.accepting_unit, regions)]
    case_ids = {c.id for c in cases}
    records = [r for r in held.records if r.person_index == subject.index and _inside(r.unit_code, regions)]
    applicant = None
    if cases or records:  # known in the region: otherwise not even the applicant row is used
        applicant = next((a for a in held.applicants if a.id in applicant_ids or a.id_index == subject.index), None)
    return Known(
        applicant=applicant, cases=cases, records=records,
        evidence=[e for e in held.evidence if e.case_id in case_ids],
        decisions={k: v for k, v in held.decisions.items() if k in case_ids}, tz=tz,
    )  # fmt: skip


def answer(subject: Subject, known: Known, access: Access, cipher: TenantCipher) -> dict[str, Any]:
    """One subject's answer: the dataset's fields granted, the personal ones masked unless granted."""
    full = ANSWERS[access.dataset.code](known, subject.on)
    if access.dataset.code == "cases/results":
        wanted = [f for f in ("receipt_no", "item", "decision", "decided_at") if f in access.fields]
        body: dict[str, Any] = {"cases": [{f: case[f] for f in wanted} for case in full["cases"]]}
    else:
        body = {name: value for name, value in full.items() if name in access.fields}
    on_record = bool(known.cases or known.records)
    identity = _identity(subject, known, access, cipher)
    return {**identity, "on": subject.on.isoformat(), "on_record": on_record, **body}


def _identity(subject: Subject, known: Known, access: Access, cipher: TenantCipher) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if subject.receipt_no is not None:
        result["receipt_no"] = subject.receipt_no
    number = subject.id_number
    if number is None and known.applicant is not None:
        number = cipher.decrypt(known.applicant.id_cipher, context=_applicant_context(cipher))
    if number is not None:
        result["id_number"] = number if "id_number" in access.fields else mask_id_number(number)
    if known.applicant is not None:
        applicant = known.applicant
        shown = "name" in access.fields
        result["name"] = (
            cipher.decrypt(applicant.name_cipher, context=_applicant_context(cipher)) if shown
            else applicant.name_masked
        )  # fmt: skip
    else:
        result["name"] = None
    return result


def _applicant_context(cipher: TenantCipher) -> bytes:
    return applicant_context(cipher.tenant_code)
