"""The wording of the notices: titles, the opening paragraph, the notes (告知事项), dates.

Plain functions of :class:`NoticeData`; the layout (``documents.layout``) decides where they go.
"""

from __future__ import annotations

from datetime import date

from fuquan.platform.documents.schemas import CertificateMark, DocumentKind, NoticeData

TITLES: dict[DocumentKind, str] = {
    "receipt": "受理通知书",
    "supplement_notice": "补正材料通知书",
    "refusal_notice": "不予受理通知书",
    "special_procedure_notice": "特别程序告知书",
    "extension_notice": "延长办理期限告知书",
    "result_notice": "办理结果通知书",
    "escalation_transfer": "“办不成事”反映窗口受理问题转办单",
}
SUBTITLES: dict[DocumentKind, str] = {
    "receipt": "（受理回执）",
    "supplement_notice": "（一次性告知）",
    "refusal_notice": "",
    "special_procedure_notice": "",
    "extension_notice": "",
    "result_notice": "",
    "escalation_transfer": "",
}
REASON_HEADINGS: dict[DocumentKind, str] = {
    "receipt": "备注",
    "supplement_notice": "需补正的材料及要求",
    "refusal_notice": "不予受理的理由",
    "special_procedure_notice": "需要特别程序的事由",
    "extension_notice": "延长期限的理由",
    "result_notice": "办理结果",
    "escalation_transfer": "反映的问题",
}
DECISION_LABELS = {"approved": "准予办理", "denied": "不予办理", None: "已办结"}
SECTION_NUMBERS = "一二三四五六七八九十"
REMEDY = "如对本决定不服，可以自收到本通知书之日起六十日内依法申请行政复议，或者在六个月内依法向人民法院提起行政诉讼。"
CLOSING = "特此通知。"
QR_CAPTION = "扫码查询办理进度"


def fmt_date(day: date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else "—"


def opening(data: NoticeData) -> str:
    item = f"“{data.item_name}”"
    if data.kind == "escalation_transfer":
        return (
            f"你通过{data.item_name}反映的问题已于{fmt_date(data.accepted_on)}登记，由值班领导{data.staff_name}首问负责，"
            f"在1个工作日内（{fmt_date(data.deadline)}前）办理；未能解决的，依次升级至中心领导（3个工作日）和"
            "局领导班子会议（5个工作日）研究解决。"
        )
    if data.kind == "receipt":
        text = f"你申请办理的{item}事项，经审查，申请材料齐全、符合法定形式，本机关决定予以受理。"
        if data.promised_days == 0:
            text += "本事项为即办件，当场办结。"
        elif data.promised_days is not None:
            text += f"本事项承诺在{data.promised_days}个工作日内办结"
            text += f"（{fmt_date(data.deadline)}前）" if data.deadline else ""
            text += "，补正材料和特别程序所需时间不计入办理时限。"
        return text
    if data.kind == "supplement_notice":
        text = (
            f"你申请办理的{item}事项，经审查，申请材料不齐全或者不符合法定形式，现将需要补正的全部内容一次性告知如下。"
        )
        if data.deadline:
            text += f"请于{fmt_date(data.deadline)}前补正。"
        return text
    if data.kind == "refusal_notice":
        return f"你申请办理的{item}事项，经审查，不符合受理条件，本机关决定不予受理，理由如下。"
    if data.kind == "extension_notice":
        return (
            f"你申请办理的{item}事项，本机关已于{fmt_date(data.accepted_on)}受理。因下列理由，在原承诺期限内不能作出决定，"
            "经本机关负责人批准，依照《中华人民共和国行政许可法》第四十二条的规定，办理期限予以延长，"
            f"延长后的承诺时限为{data.promised_days}个工作日（{fmt_date(data.deadline)}前办结，补正和特别程序所需时间不计入）。"
        )
    if data.kind == "special_procedure_notice":
        text = (
            f"你申请办理的{item}事项，本机关已于{fmt_date(data.accepted_on)}受理。因下列事由需要依法进行特别程序，"
            "依照《中华人民共和国行政许可法》第四十五条的规定，所需时间不计算在办理期限内"
        )
        return text + (f"，预计于{fmt_date(data.deadline)}前结束。" if data.deadline else "。")
    if data.decision == "approved":
        return f"你申请办理的{item}事项，经审核，符合规定，准予办理。"
    if data.decision == "denied":
        return f"你申请办理的{item}事项，经审核，不符合规定，决定不予办理，理由如下。"
    return f"你申请办理的{item}事项已办理完毕，办理结果如下。"


def notes(data: NoticeData) -> list[str]:
    notes: list[str] = []
    unit = data.unit_name
    if data.kind == "escalation_transfer":
        notes.append("问题解决后，工作人员将与你联系确认；你对处理结果不满意的，可以要求重新办理。")
        notes.append("可凭本转办单上的登记号和查询码，扫码或登录网站查询办理进度。")
    elif data.kind == "receipt":
        notes.append(
            f"请妥善保管本通知书，办结后凭本通知书和本人有效身份证件到{unit}领取办理结果。"
            "办理过程中需要补正材料的，本机关将一次性告知。"
        )
    elif data.kind == "supplement_notice":
        notes.append("请按上述要求一次性补正全部材料后重新提交，补正期间不计入办理时限。")
    elif data.kind == "extension_notice":
        notes.append("延长期间本机关将抓紧办理，办理结果将及时告知你。")
    elif data.kind == "special_procedure_notice":
        notes.append("特别程序结束后，本机关将继续办理，办结期限相应顺延，办理结果将及时告知你。")
    elif data.kind == "refusal_notice" or data.decision == "denied":
        notes.append(REMEDY)
    else:
        notes.append(f"请凭本通知书和本人有效身份证件到{unit}领取办理结果。")
    if data.contact:
        notes.append(f"如有疑问，请联系经办人{data.staff_name}，联系电话：{data.contact}。")
    else:
        notes.append(f"如有疑问，请向{unit}咨询。")
    return notes


def reason_heading(data: NoticeData) -> str:
    if data.kind == "result_notice" and data.decision == "denied":
        return "不予办理的理由"
    return REASON_HEADINGS[data.kind]


def certificate_note(mark: CertificateMark) -> str:
    """What a resident or a third party reads beside the certificate's QR code."""
    if mark.revoked:
        return f"本电子证照已注销，不再有效。核验：{mark.verify_url}"
    return (
        "本决定的办理结果已制发电子证照，由颁证机关以 SM2 数字签名，与纸质证照具有同等效力。"
        f"扫描左侧二维码，或访问 {mark.verify_url} ，凭证照编号和核验码即可核验其真伪和当前状态（有效或已注销）。"
    )
