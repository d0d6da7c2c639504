"""SMS templates (短信模板): the kinds of notice a resident receives, each with the parameters it may carry, the
text shipped by default and the rules a tenant's own text must keep (the platforms' notification rules)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from fuquan.platform.core.errors import ValidationFailed


@dataclass(frozen=True, slots=True)
class SmsKind:
    kind: str
    label: str
    params: tuple[str, ...]
    vendor_template: str  # the code the default text was approved under (the demo's platform accepts it)
    text: str


KINDS: Final = {
    kind.kind: kind
    for kind in (
        SmsKind("case_accepted", "受理回执", ("item", "no", "code", "deadline"), "SMS_100000101",
                "您申请的${item}已受理，办件编号${no}，查询码${code}，承诺${deadline}前办结。"
                "可在人社便民服务网站“办件进度”栏目凭编号和查询码查询。"),
        SmsKind("case_refused", "不予受理", ("item", "no"), "SMS_100000102",
                "您申请的${item}（办件编号${no}）不予受理，理由见书面告知书，可在“办件进度”栏目查看。"),
        SmsKind("supplement_needed", "补正告知", ("item", "no"), "SMS_100000103",
                "您申请的${item}（办件编号${no}）需补正材料，请按一次性告知书补齐后重新提交。"),
        SmsKind("case_decided", "办理结果", ("item", "no", "result"), "SMS_100000104",
                "您申请的${item}（办件编号${no}）已办理完毕，结果：${result}。"),
        SmsKind("ready_to_collect", "领取通知", ("item", "no", "place"), "SMS_100000105",
                "您申请的${item}（办件编号${no}）结果已出件，请携带身份证到${place}领取。"),
        SmsKind("rating_invitation", "评价邀请", ("item", "no"), "SMS_100000106",
                "您申请的${item}（办件编号${no}）已办结，欢迎在“办件进度”栏目对本次服务作出评价（好差评）。"),
        SmsKind("escalation_update", "办不成事反映进展", ("no", "status"), "SMS_100000107",
                "您反映的问题（登记号${no}）${status}，可在“办件进度”栏目凭登记号和查询码查看。"),
    )
}  # fmt: skip

MAX_TEXT: Final = 500
_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def variables(text: str) -> list[str]:
    return _VARIABLE.findall(text)


def check_text(kind: SmsKind, text: str) -> None:
    """A tenant's text keeps the platforms' rules: only the kind's parameters, no 【】 (the platform adds the
    signature), not all variables, no two variables side by side, at most 500 characters."""
    if not text.strip():
        raise ValidationFailed("短信内容不能为空", rule="sms_text_empty")
    if len(text) > MAX_TEXT:
        raise ValidationFailed(f"短信内容不能超过 {MAX_TEXT} 个字", rule="sms_text_long")
    if "【" in text or "】" in text:
        raise ValidationFailed("短信内容中不能出现【】，签名由短信平台自动添加", rule="sms_text_brackets")
    unknown = sorted(set(variables(text)) - set(kind.params))
    if unknown:
        allowed = "、".join(f"${{{name}}}" for name in kind.params)
        raise ValidationFailed(f"“{kind.label}”只能使用变量 {allowed}，不能使用 {'、'.join(unknown)}",
                               rule="sms_text_variable")  # fmt: skip
    if "}${" in text:
        raise ValidationFailed("两个变量之间须有文字", rule="sms_text_adjacent")
    if not _VARIABLE.sub("", text).strip():
        raise ValidationFailed("短信内容不能只有变量", rule="sms_text_only_variables")


def render(sign_name: str, text: str, params: dict[str, str]) -> str:
    """The message as the resident reads it: 【签名】 and the text with its parameters."""
    return f"【{sign_name}】" + _VARIABLE.sub(lambda match: params.get(match.group(1), ""), text)


def default_sign_name(tenant_name: str) -> str:
    """The department's short name as its signature: 宁夏回族自治区 → 宁夏人社, 海南省 → 海南人社."""
    return f"{tenant_name[:2]}人社"
