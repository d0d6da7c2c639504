"""What a printed notice (回执/通知书) shows — independent of the database.

The case service fills a :class:`NoticeData` from a case and its events; :func:`render_pdf`
(``documents.render``) turns it into an A4 PDF. Personal data arrives here already masked
(DESIGN §10): the renderer never sees a full ID number, so a printed notice cannot leak one.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

DocumentKind = Literal[
    "receipt", "supplement_notice", "refusal_notice", "special_procedure_notice", "extension_notice",
    "result_notice", "escalation_transfer",
]  # fmt: skip
"""``receipt`` 受理通知书（受理回执）, ``supplement_notice`` 补正材料通知书,
``refusal_notice`` 不予受理通知书, ``special_procedure_notice`` 特别程序告知书 (行政许可法 Art. 45),
``extension_notice`` 延长办理期限告知书 (Art. 42),
``result_notice`` 办理结果通知书, ``escalation_transfer`` 《“办不成事”反映窗口受理
问题转办单》 (the receipt number is the registration number, the item the problem's channel)."""

Decision = Literal["approved", "denied"]

QueryCode = Annotated[str, msgspec.Meta(min_length=6, max_length=8)]

MaterialRow = tuple[str, str]
"""(material name, state label), e.g. ``("户口簿", "共享数据核验通过")``."""


class CertificateMark(msgspec.Struct, frozen=True, kw_only=True):
    """The e-certificate a result notice carries (电子证照): its number, 核验码 and the page that verifies it. The
    notice then bears the issuing organ's seal and a second QR code, to that page."""

    number: str
    verify_code: str
    title: str
    verify_url: str
    key_fingerprint: str
    algorithm: str
    revoked: bool = False


class NoticeData(msgspec.Struct, frozen=True, kw_only=True):
    """Everything one notice prints.

    ``issued_at`` is an instant (aware; a naive value is read as Beijing time) and is printed in
    Asia/Shanghai. ``staff_name`` is 经办人: the person who took the step the notice records (not whoever prints
    it). ``reasons`` are the missing materials (supplement notice), the refusal reasons
    (refusal notice) or the decision text (result notice). ``progress_url`` is the public progress
    page for this receipt number and query code; the QR code encodes it.
    """

    kind: DocumentKind
    organ_name: str  # 出具机关: the organ the notice is issued in the name of (letterhead, signature, seal)
    unit_name: str  # the desk the resident deals with (where to collect the result)
    item_code: str
    item_name: str
    receipt_no: str
    query_code: QueryCode
    applicant_name_masked: str
    applicant_id_masked: str
    issued_at: datetime
    staff_name: str
    progress_url: str
    accepted_on: date | None = None
    deadline: date | None = None
    promised_days: int | None = None
    materials: list[MaterialRow] = msgspec.field(default_factory=list)
    reasons: list[str] = msgspec.field(default_factory=list)
    decision: Decision | None = None
    contact: str | None = None
    handling_note: str | None = None  # another body took the step: "受…委托，由…办理" or "…代…收件（代收代办）"
    certificate: CertificateMark | None = None  # on an approved result notice: the signed e-certificate

    def __post_init__(self) -> None:
        # msgspec checks Meta constraints when decoding, not on construction: repeat the essentials.
        if not 6 <= len(self.query_code) <= 8:
            raise ValueError("query_code must be 6–8 characters")
        if self.applicant_id_masked and "*" not in self.applicant_id_masked:
            raise ValueError("applicant_id_masked must be masked (e.g. 6402**********1234), never the full number")
        if self.applicant_name_masked and "*" not in self.applicant_name_masked:
            raise ValueError("applicant_name_masked must be masked (e.g. 张*)")
        if self.decision is not None and self.kind != "result_notice":
            raise ValueError("decision belongs on a result_notice only")
        if self.certificate is not None and self.decision != "approved":
            raise ValueError("a certificate belongs on an approved result_notice only")
        if self.promised_days is not None and self.promised_days < 0:
            raise ValueError("promised_days must not be negative")
        if not self.progress_url:
            raise ValueError("progress_url is required: the QR code encodes it")
