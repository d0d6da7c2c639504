"""Reading numbers out of form fields, which arrive as text typed or pasted by a person."""

from __future__ import annotations

import re
from typing import Final

_WHOLE: Final = re.compile(r"[0-9]{1,18}")  # ASCII digits: str.isdigit() also says yes to "²", which int() refuses


def whole_number(text: str) -> int | None:
    """The non-negative whole number in ``text`` (spaces around allowed), or None when it is not one."""
    stripped = text.strip()
    return int(stripped) if _WHOLE.fullmatch(stripped) else None
