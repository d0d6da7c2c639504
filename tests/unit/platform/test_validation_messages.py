"""The framework's validation messages reach the clerk in Chinese (issue 14: an assessor's probe found
``display_name：Expected `str` of length <= 64`` and six more in English)."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuquan.platform.core.validation_messages import in_chinese


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("Expected `str` of length >= 1", "长度不能小于 1 个字符"),
        ("Expected `str` of length <= 64", "长度不能大于 64 个字符"),
        ("Invalid enum value 'xx'", "'xx' 不是允许的取值"),
        ("Object contains unknown field `pad`", "含有不认识的字段 pad"),
        ("Invalid RFC3339 encoded date", "日期格式不正确，应为 YYYY-MM-DD，如 2026-05-06"),
        ("Expected `int`, got `float`", "应为整数，而不是数字"),
        ("Expected `int` <= 9223372036854775807", "不能大于 9223372036854775807"),
        (
            "Expected `str | null`, got `int` - at `$.applicant.name`",
            "应为文本 或 空值，而不是整数（位置 applicant.name）",
        ),
    ],
)
def test_each_form_the_probe_met_is_rewritten(english: str, chinese: str) -> None:
    assert in_chinese(english) == chinese


class _Shape(msgspec.Struct, forbid_unknown_fields=True):
    name: str = msgspec.field(default="x")
    count: int = 0
    day: str = "2026-05-06"
    tags: list[str] = msgspec.field(default_factory=list)


_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=5),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)  # fmt: skip


@given(st.dictionaries(st.sampled_from(["name", "count", "day", "tags", "other"]), _VALUES, max_size=3))
def test_every_message_msgspec_gives_here_reads_in_chinese(document: dict[str, object]) -> None:
    """Whatever msgspec objects to in a body, the rewritten message is not its English grammar."""
    try:
        msgspec.convert(document, _Shape)
    except msgspec.ValidationError as error:
        message = str(error)
    else:
        return
    text = in_chinese(message)
    assert "Expected" not in text and "Object " not in text and "格式不正确（" not in text, (message, text)
