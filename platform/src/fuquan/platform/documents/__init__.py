"""Printed notices (回执/通知书): receipts, supplement and refusal notices, result notices as PDF."""

from fuquan.platform.documents.fonts import FontMissing, find_font, font_candidates
from fuquan.platform.documents.render import TITLES, render_pdf, warm_up
from fuquan.platform.documents.schemas import CertificateMark, Decision, DocumentKind, MaterialRow, NoticeData

__all__ = [
    "TITLES",
    "CertificateMark",
    "Decision",
    "DocumentKind",
    "FontMissing",
    "MaterialRow",
    "NoticeData",
    "find_font",
    "font_candidates",
    "render_pdf",
    "warm_up",
]
