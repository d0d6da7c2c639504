"""办件编号 and the public query code.

Format: ``{accepting unit code}-{YYYYMMDD}-{sequence, 4+ digits}``, e.g. ``640202001001-20261122-0007``:
the unit and the local date say where and when a case entered; the sequence counts that unit's cases of
the day (``repositories.ReceiptCounterRepository.take``). The query code (查询码) printed on the receipt is
6 characters from an alphabet without look-alikes (no 0/O, 1/I/L), so a resident can read it out on the phone.
"""

from __future__ import annotations

import secrets
from datetime import date

QUERY_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
QUERY_CODE_LENGTH = 6


def receipt_no(unit_code: str, day: date, sequence: int) -> str:
    return f"{unit_code}-{day:%Y%m%d}-{sequence:04d}"


def new_query_code() -> str:
    return "".join(secrets.choice(QUERY_CODE_ALPHABET) for _ in range(QUERY_CODE_LENGTH))
