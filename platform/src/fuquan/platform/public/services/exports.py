"""权力清单 and 责任清单 exported as XLSX (two sheets and the change history) and as PDF."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import xlsxwriter

from fuquan.platform.documents.tables import TableSection, render_table_pdf
from fuquan.platform.public.schemas import PowerListRead

POWER_COLUMNS = [("事项编码", 10), ("事项名称", 26), ("事项类型", 12), ("权限", 8), ("权力来源", 10),
                 ("依据（文号）", 36), ("起始日期", 12), ("赋权单位", 22)]  # fmt: skip
DUTY_COLUMNS = [("事项名称", 24), ("权限", 8), ("环节", 10), ("责任事项", 70), ("追责情形", 60)]
HISTORY_COLUMNS = [("日期", 12), ("变动", 8), ("事项", 26), ("权限", 8), ("单位", 24), ("方式", 8), ("文号", 34)]


def _sections(read: PowerListRead) -> list[TableSection]:
    powers = [[p.item_code, p.item_name, p.item_type, p.right, p.basis, p.instrument,
               p.since.isoformat() if p.since else "法定", p.grantor] for p in read.powers]  # fmt: skip
    duties = [
        [p.item_name, p.right, duty.step, duty.duty, "；".join(p.accountability) if i == 0 else "同上"]
        for p in read.powers for i, duty in enumerate(p.duties)
    ]  # fmt: skip
    history = [[e.day.isoformat(), e.change, e.item_name, e.right, e.unit_name, e.basis, e.instrument]
               for e in read.history]  # fmt: skip
    return [
        TableSection("一、权力清单", POWER_COLUMNS, powers),
        TableSection("二、责任清单", DUTY_COLUMNS, duties),
        TableSection("三、赋权变动记录", HISTORY_COLUMNS, history),
    ]


def title(read: PowerListRead) -> str:
    return f"{read.organ_name}权力清单和责任清单"


def subtitle(read: PowerListRead) -> str:
    return f"区划代码 {read.unit_code} · 截至 {read.as_of.isoformat()} 按生效的赋权生成 · 事项目录第 {read.edition} 版"


def to_xlsx(read: PowerListRead) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                        "strings_to_numbers": False})  # fmt: skip
    bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#F1F1EE"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    for section in _sections(read):
        sheet = book.add_worksheet(section.heading.split("、", 1)[1])
        sheet.write_string(0, 0, title(read), book.add_format({"bold": True, "font_size": 14}))
        sheet.write_string(1, 0, subtitle(read))
        for column, (label, width) in enumerate(section.columns):
            sheet.set_column(column, column, width)
            sheet.write_string(3, column, label, bold)
        for r, row in enumerate(section.rows, start=4):
            for c, value in enumerate(row):
                sheet.write_string(r, c, value, wrap)
        sheet.freeze_panes(4, 0)
    book.close()
    return buffer.getvalue()


def to_pdf(read: PowerListRead) -> bytes:
    return render_table_pdf(title(read), subtitle(read), _sections(read), author=read.organ_name,
                            created=datetime.now(UTC))  # fmt: skip
