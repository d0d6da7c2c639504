"""A4 notices in Chinese (受理通知书, 补正材料通知书, 不予受理通知书, 办理结果通知书) as PDF.

``render_pdf(data)`` lays a :class:`NoticeData` out in the style of a formal government notice:
the tenant's name as a red letterhead over the accepting unit, the title, the receipt number,
a salutation and an opening paragraph, then numbered sections (办件信息, 申请材料, the reasons,
告知事项), the closing 特此通知 with the unit and date, and a QR code for the public progress
page with its query code. Text wraps by character with the usual Chinese line-breaking rules
(no line starts with 、。，） and the like); tables and lists continue on further pages.

The wording lives in ``documents.wording``, the drawing in ``documents.layout``; rendering is
pure (no network, no files) and the fonts come from ``documents.fonts``, cached per process.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo

import segno
import structlog
from fpdf import FPDF
from fpdf.fonts import TTFFont

from fuquan.platform.core.timeutil import as_utc
from fuquan.platform.documents.fonts import FontMissing, SourceFace, find_font, source_face
from fuquan.platform.documents.layout import FAMILY, LEFT, PT, WIDTH, Cell, NoticePDF
from fuquan.platform.documents.schemas import CertificateMark, NoticeData
from fuquan.platform.documents.wording import (
    CLOSING,
    DECISION_LABELS,
    QR_CAPTION,
    REASON_HEADINGS,
    REMEDY,
    SECTION_NUMBERS,
    SUBTITLES,
    TITLES,
    certificate_note,
    fmt_date,
    notes,
    opening,
    reason_heading,
)

__all__ = ["TITLES", "FontMissing", "render_pdf", "warm_up"]

log = structlog.get_logger()

DISPLAY_TZ = "Asia/Shanghai"
CERTIFICATE_QR = 24.0

# Fixed labels; the sentences built from data are collected by _all_text(). Together they let the
# font built for a document hold every character it prints (render_pdf falls back to a second
# layout with the missing ones should a label ever be left out here).
_FIXED_TEXT = "".join(
    [
        *TITLES.values(),
        *SUBTITLES.values(),
        *REASON_HEADINGS.values(),
        *DECISION_LABELS.values(),
        SECTION_NUMBERS,
        REMEDY,
        CLOSING,
        QR_CAPTION,
        "受理编号登记号查询码网上办件信息申请材料告知事项序号名称核验及收取情况",
        "〇一二三四五六七八九十百年月日时分秒第页共续：；，。、（）《》“”‘’—…·　",
        "".join(chr(c) for c in range(0x20, 0x7F)),
    ]
)


def _local(instant: datetime) -> datetime:
    return as_utc(instant, DISPLAY_TZ).astimezone(ZoneInfo(DISPLAY_TZ))


def _facts(data: NoticeData, issued: datetime) -> list[list[Cell]]:
    """The key facts as rows of label/value pairs (a wide value takes a whole row)."""
    if data.kind == "escalation_transfer":
        return _transfer_facts(data, issued)
    wide: list[tuple[str, str]] = [("事项名称", data.item_name)]
    pairs: list[tuple[str, str]] = [
        ("事项编码", data.item_code),
        ("申请人", data.applicant_name_masked or "—"),
        ("证件号码", data.applicant_id_masked or "—"),
    ]
    if data.accepted_on:
        pairs.append(("受理日期", fmt_date(data.accepted_on)))
    if data.kind == "result_notice":
        pairs.append(("办理结果", DECISION_LABELS[data.decision]))
    if data.promised_days is not None and data.kind in ("receipt", "extension_notice", "result_notice"):
        pairs.append(("承诺时限", f"{data.promised_days}个工作日" if data.promised_days else "即办件，当场办结"))
    if data.deadline:
        label = {"supplement_notice": "补正期限", "special_procedure_notice": "特别程序期限"}.get(data.kind, "办结期限")
        pairs.append((label, fmt_date(data.deadline)))
    pairs += [
        ("经办人", data.staff_name or "—"),
        ("联系电话", data.contact or "—"),
        ("出具时间", f"{fmt_date(issued.date())} {issued:%H:%M}"),
    ]
    rows = [[Cell(label, "label"), Cell(value, span=3)] for label, value in wide]
    for i in range(0, len(pairs), 2):
        chunk = pairs[i : i + 2]
        row = [Cell(chunk[0][0], "label"), Cell(chunk[0][1], span=1 if len(chunk) == 2 else 3)]
        if len(chunk) == 2:
            row += [Cell(chunk[1][0], "label"), Cell(chunk[1][1])]
        rows.append(row)
    return rows


def _transfer_facts(data: NoticeData, issued: datetime) -> list[list[Cell]]:
    """转办单: the registration, the resident (masked), who owns it and by when."""
    pairs = [
        ("登记号", data.receipt_no), ("反映渠道", data.item_name),
        ("反映人", data.applicant_name_masked or "—"), ("证件号码", data.applicant_id_masked or "—"),
        ("登记日期", fmt_date(data.accepted_on)), ("办理时限", f"{fmt_date(data.deadline)}前（1个工作日）"),
        ("首问负责", data.staff_name or "—"), ("登记单位", data.unit_name),
        ("联系电话", data.contact or "—"), ("出具时间", f"{fmt_date(issued.date())} {issued:%H:%M}"),
    ]  # fmt: skip
    return [
        [Cell(pairs[i][0], "label"), Cell(pairs[i][1]), Cell(pairs[i + 1][0], "label"), Cell(pairs[i + 1][1])]
        for i in range(0, len(pairs), 2)
    ]


def _all_text(data: NoticeData, issued: datetime) -> str:
    """Every data-dependent string the layout may print (to build the document's font)."""
    parts = [
        data.organ_name,
        data.handling_note or "",
        data.unit_name,
        data.item_code,
        data.item_name,
        data.receipt_no,
        data.query_code,
        data.applicant_name_masked,
        data.applicant_id_masked,
        data.staff_name,
        data.progress_url,
        data.contact or "",
        opening(data),
        reason_heading(data),
        *notes(data),
        *data.reasons,
        *(name + state for name, state in data.materials),
        *(cell.text for row in _facts(data, issued) for cell in row),
        *_certificate_text(data.certificate),
    ]
    return "".join(parts)


def _certificate_text(mark: CertificateMark | None) -> list[str]:
    if mark is None:
        return []
    return [mark.title, mark.number, mark.verify_code, mark.algorithm, mark.key_fingerprint, certificate_note(mark),
            "电子证照证照名称编号核验码签名算法密钥"]  # fmt: skip


def _qr_png(url: str) -> bytes:
    buffer = BytesIO()
    segno.make(url, error="m", micro=False).save(buffer, kind="png", scale=6, border=0)
    return buffer.getvalue()


def _layout(
    data: NoticeData, issued: datetime, regular: bytes, bold: bytes, qr_png: bytes, spacing: float,
    certificate_qr: bytes | None = None,
) -> NoticePDF:  # fmt: skip
    pdf = NoticePDF(data, spacing)
    for style, font_bytes in (("", regular), ("B", bold)):
        install_font(pdf, style, font_bytes)
    title = TITLES[data.kind]
    pdf.set_title(f"{title} {data.receipt_no}")
    pdf.set_subject(f"{data.item_name}（{data.item_code}）")
    pdf.set_author(data.organ_name)
    pdf.set_creator("Fuquan 赋权")
    pdf.set_lang("zh-CN")
    pdf.set_creation_date(issued)
    pdf.add_page()
    pdf.letterhead(qr_png)

    pdf.lines(f"{data.applicant_name_masked or '申请人'}：", bold=True)
    pdf.lines(opening(data), first_indent=2 * 11.5 * PT)
    pdf.set_y(pdf.get_y() + 1)

    section = 1
    pdf.heading(section, "办件信息")
    pdf.grid((25, 58, 25, 58), _facts(data, issued))
    if data.materials:
        section += 1
        pdf.heading(section, "申请材料")
        pdf.grid(
            (14, 96, 56),
            ([Cell(str(i), "number"), Cell(name), Cell(state)] for i, (name, state) in enumerate(data.materials, 1)),
            header=[Cell("序号", "head"), Cell("材料名称", "head"), Cell("核验及收取情况", "head")],
        )
    if data.reasons:
        section += 1
        pdf.heading(section, reason_heading(data))
        pdf.numbered(data.reasons)
    if data.certificate is not None:
        section += 1
        pdf.heading(section, "电子证照")
        _certificate_block(pdf, data.certificate, certificate_qr)
    section += 1
    pdf.heading(section, "告知事项")
    pdf.numbered(notes(data))
    pdf.closing(fmt_date(issued.date()))
    return pdf


def _certificate_block(pdf: NoticePDF, mark: CertificateMark, qr_png: bytes | None) -> None:
    """The certificate's facts, and beside them the QR code of its verification page."""
    pdf.grid((25, 58, 25, 58), [
        [Cell("证照名称", "label"), Cell(mark.title, span=3)],
        [Cell("证照编号", "label"), Cell(mark.number), Cell("核验码", "label"), Cell(mark.verify_code)],
        [Cell("签名算法", "label"), Cell(mark.algorithm), Cell("签名密钥", "label"), Cell(mark.key_fingerprint)],
    ])  # fmt: skip
    top = pdf.get_y()
    if qr_png is not None:
        pdf.image(BytesIO(qr_png), x=LEFT, y=top, w=CERTIFICATE_QR, h=CERTIFICATE_QR)
    text_x = LEFT + CERTIFICATE_QR + 4
    pdf.set_y(top + 1)
    pdf.lines(certificate_note(mark), size=9.5, x=text_x, width=WIDTH - CERTIFICATE_QR - 4, leading=1.5)
    pdf.set_y(max(pdf.get_y(), top + CERTIFICATE_QR) + 1)


def install_font(pdf: FPDF, style: str, font_bytes: bytes) -> None:
    """``add_font`` from memory: fpdf2 only takes a path; its TTFFont reads any file object."""
    key = f"{FAMILY}{style}"
    font = TTFFont(pdf, cast(Path, BytesIO(font_bytes)), key, style)
    font.ttfont.recalcBBoxes = False  # glyph boxes are already in the data: keep subsetting cheap
    pdf.fonts[key] = font


def font_faces(font_paths: Sequence[str | os.PathLike[str]] | None) -> tuple[SourceFace, SourceFace]:
    files = find_font(font_paths)
    regular = source_face(files.regular)
    bold = source_face(files.bold) if files.bold else regular
    return regular, bold


TIGHT = 0.86
"""Spacing factor for a second layout when the closing would stand alone on the last page
(GB/T 9704-2012 7.3.5.1: adjust the spacing rather than leave the 落款 on a page of its own)."""


def _render(
    data: NoticeData,
    issued: datetime,
    faces: tuple[SourceFace, SourceFace],
    codepoints: set[int],
    qr_png: bytes,
    spacing: float,
    certificate_qr: bytes | None = None,
) -> NoticePDF:
    regular, bold = faces
    for _attempt in range(3):
        pdf = _layout(data, issued, regular.build(codepoints), bold.build(codepoints), qr_png, spacing,
                      certificate_qr)  # fmt: skip
        missing = {
            cp
            for font in pdf.fonts.values()
            if isinstance(font, TTFFont)
            for cp in font.missing_glyphs
            if regular.covers(cp) or bold.covers(cp)
        } - codepoints
        if not missing:
            break
        # a template string not covered by _FIXED_TEXT/_all_text: lay out again with those characters
        log.info("document_font_extended", kind=data.kind, characters=len(missing))
        codepoints |= missing
    if missing_everywhere := {
        cp
        for font in pdf.fonts.values()
        if isinstance(font, TTFFont)
        for cp in font.missing_glyphs
        if not (regular.covers(cp) or bold.covers(cp))
    }:
        # e.g. a rare character of a name beyond the font: printed as a blank; say so (count only)
        log.warning("document_characters_unprintable", kind=data.kind, characters=len(missing_everywhere))
    return pdf


def warm_up(font_paths: Sequence[str | os.PathLike[str]] | None = None) -> None:
    """Parse the fonts and convert the template's glyphs now (~1 s), e.g. at application start,
    so that the first notice printed is as fast as the rest. Raises :class:`FontMissing`."""
    for face in font_faces(font_paths):
        face.glyphs(ord(c) for c in _FIXED_TEXT)


def render_pdf(data: NoticeData, *, font_paths: Sequence[str | os.PathLike[str]] | None = None) -> bytes:
    """The notice as PDF bytes.

    ``font_paths``: where to look for the CJK font, in order (default: ``$FUQUAN_CJK_FONT``, read
    now, then the Debian location of fonts-noto-cjk). Raises :class:`FontMissing` if none exists.
    """
    faces = font_faces(font_paths)
    issued = _local(data.issued_at)
    codepoints = {ord(c) for c in _FIXED_TEXT + _all_text(data, issued)}
    qr_png = _qr_png(data.progress_url)
    certificate_qr = None if data.certificate is None else _qr_png(data.certificate.verify_url)
    pdf = _render(data, issued, faces, codepoints, qr_png, 1.0, certificate_qr)
    if pdf.closing_alone:
        tight = _render(data, issued, faces, codepoints, qr_png, TIGHT, certificate_qr)
        if not tight.closing_alone:
            pdf = tight
    # output() also clears fpdf2's class-wide SubsetMap memo, which would otherwise keep fonts alive
    return bytes(pdf.output())
