"""msgspec's validation messages in Chinese, for the clerk reading a 400 (issue 14: "with a Chinese message").

msgspec says what it expected in a small, fixed grammar (``Expected `str` of length <= 64``, ``Invalid enum value
'x'``, ``Object contains unknown field `f```…); each form is rewritten here. A form not known keeps its English
after a Chinese lead, so nothing is lost.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

_TYPES: Final = {
    "str": "文本", "int": "整数", "float": "数字", "bool": "true 或 false", "object": "对象", "array": "数组",
    "null": "空值", "bytes": "字节串", "datetime": "日期时间", "date": "日期", "time": "时间", "uuid": "UUID",
    "decimal": "数字", "duration": "时长",
}  # fmt: skip
_BOUNDS: Final = {">=": "不能小于", "<=": "不能大于", ">": "必须大于", "<": "必须小于"}


def _type(name: str) -> str:
    return " 或 ".join(_TYPES.get(part.strip(), part.strip()) for part in name.split("|"))


def _length(kind: str, bound: str, number: str) -> str:
    unit = "个字符" if kind == "str" else "项"
    return f"长度{_BOUNDS[bound]} {number} {unit}"


_RULES: Final[list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]]] = [
    (re.compile(r"^Expected `([^`]+)`, got `([^`]+)`"), lambda m: f"应为{_type(m[1])}，而不是{_type(m[2])}"),
    (
        re.compile(r"^Expected `(str|array|object|bytes)` of length (>=|<=|>|<) (\d+)"),
        lambda m: _length(m[1], m[2], m[3]),
    ),
    (re.compile(r"^Expected `(?:int|float|decimal)` (>=|<=|>|<) (-?[\d.e+]+)"), lambda m: f"{_BOUNDS[m[1]]} {m[2]}"),
    (re.compile(r"^Expected `(?:int|float)` that is a multiple of (\S+)"), lambda m: f"必须是 {m[1]} 的整数倍"),
    (re.compile(r"^Expected `str` matching regex"), lambda _m: "格式不正确"),
    (re.compile(r"^Invalid enum value (.+)$"), lambda m: f"{m[1]} 不是允许的取值"),
    (re.compile(r"^Object contains unknown field `([^`]+)`"), lambda m: f"含有不认识的字段 {m[1]}"),
    (re.compile(r"^Object missing required field `([^`]+)`"), lambda m: f"缺少必填字段 {m[1]}"),
    (re.compile(r"^Invalid RFC3339 encoded date$"), lambda _m: "日期格式不正确，应为 YYYY-MM-DD，如 2026-05-06"),
    (
        re.compile(r"^Invalid RFC3339 encoded (datetime|time)"),
        lambda _m: "时间格式不正确，应如 2026-05-06T09:00:00+08:00",
    ),
    (re.compile(r"^Invalid (UUID|base64|decimal)"), lambda m: f"不是有效的 {m[1]}"),
    (re.compile(r"^(JSON is malformed|Input data was truncated)"), lambda _m: "不是有效的 JSON"),
    (re.compile(r"^Expected `([^`]+)`$"), lambda m: f"应为{_type(m[1])}"),
]
_AT: Final = re.compile(r"\s*- at `\$(.*)`$")


def in_chinese(message: str) -> str:
    """One validation message, in Chinese (the place msgspec names, ``- at `$.x```, kept as 位置)."""
    place = ""
    found = _AT.search(message)
    if found:
        message, place = message[: found.start()], found[1]
    for pattern, rewrite in _RULES:
        matched = pattern.search(message)
        if matched:
            text = rewrite(matched)
            break
    else:
        text = f"格式不正确（{message}）"
    return f"{text}（位置 {place.lstrip('.')}）" if place else text
