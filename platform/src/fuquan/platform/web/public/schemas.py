"""The citizens' forms. Every field defaults to empty so that a missing field gets the form back with a
clear message (400) instead of a generic validation page."""

from __future__ import annotations

import msgspec


class LookupForm(msgspec.Struct, kw_only=True):
    """办件进度查询: the 受理编号 and the 查询码 printed on the paper receipt (回执)."""

    receipt: str = ""
    code: str = ""


class RatingForm(msgspec.Struct, kw_only=True):
    """好差评: the receipt and query code come back as hidden fields of the result page."""

    receipt: str = ""
    code: str = ""
    level: str = ""  # "1".."5"; a string so that a missing or odd value is our message, not a framework error
    comment: str = ""


class ComplaintForm(msgspec.Struct, kw_only=True):
    """投诉: the receipt and query code come back as hidden fields of the result page."""

    receipt: str = ""
    code: str = ""
    text: str = ""
