"""Form bodies of the intake pages (URL-encoded; every field a string, as a browser sends it)."""

from __future__ import annotations

import msgspec


class NewCaseForm(msgspec.Struct, kw_only=True):
    """收件表单: the resident, and the related person or enterprise when the item asks about them."""

    id_number: str = ""
    name: str = ""
    phone: str = ""
    related_id_number: str = ""
    related_name: str = ""
    enterprise_credit_code: str = ""
    idempotency_key: str = ""  # generated when the form is rendered: a double tap opens one case


class MaterialForm(msgspec.Struct, kw_only=True):
    """告知承诺 (choice=pledge) or 容缺 (choice=defer with a date) in place of a material."""

    choice: str = ""
    defer_until: str = ""


class SubmitForm(msgspec.Struct, kw_only=True):
    """The case version the page showed: a stale page cannot submit over someone else's change."""

    version: str = ""
