"""API shapes of units, and the one type of a unit code wherever a request carries one."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar.params import Parameter

from fuquan.tenants.divisions import UNIT_CODE_PATTERN

UNIT_CODE_DESCRIPTION = (
    "单位区划代码：2、4、6、9、12 或 15 位数字（网格为村/社区代码加 3 位）；"
    "12 位统计用代码按其层级读取，如 640202000000 即 640202、640202001000 即 640202001"
)

# A unit code in a query or path parameter or a JSON body field. Litestar documents it (description and
# pattern) wherever it appears; it is read by ``divisions.normalise_unit_code`` — in the handler for a
# parameter, in ``__post_init__`` for a body — which shortens the 12-digit form and refuses anything
# else in Chinese (400). The pattern is stated, not enforced here, so that refusal is the only one.
UnitCode = Annotated[str, Parameter(description=UNIT_CODE_DESCRIPTION, schema_extra={"pattern": UNIT_CODE_PATTERN})]


class UnitRead(msgspec.Struct, frozen=True):
    code: str
    name: str
    level: int
    parent_code: str | None
