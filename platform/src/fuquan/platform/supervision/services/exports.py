"""The performance table as a spreadsheet (XLSX, by XlsxWriter) and as CSV: one row per unit or person, each figure
beside the compared period's. Text is written as text: nothing a clerk or a resident typed becomes a formula or a link.
"""

from __future__ import annotations

import csv
import io
from typing import Final

import xlsxwriter

from fuquan.platform.auditing.services import safe_cell
from fuquan.platform.supervision.schemas import Figures, PerformanceRead, PerformanceRow

COLUMNS: Final = (  # (field of Figures, heading, a rate shown as a percentage)
    ("accepted", "受理", False), ("refused", "不予受理", False), ("supplements", "补正", False),
    ("decided", "办结（决定）", False), ("denied", "不予许可", False), ("issued", "出件", False),
    ("on_time", "按时办结", False), ("on_time_rate", "按时办结率", True),
    ("average_working_days", "平均用时（工作日）", False), ("ratings", "评价数", False),
    ("rating_average", "平均评价", False), ("poor_ratings", "差评", False), ("follow_ups", "差评及投诉整改", False),
    ("callback_rate", "按时回访率", True), ("escalations", "办不成事倒查", False), ("orders", "收到督办单", False),
    ("accountability", "责任追究", False),
)  # fmt: skip
Cell = str | int | float | None


def table(read: PerformanceRead) -> tuple[list[str], list[list[Cell]]]:
    """Headings and rows: the figures, then the compared period's (if any) with the same headings marked 上期."""
    compared = read.previous_first is not None
    who = ["单位代码", "单位"] if read.by == "unit" else ["账号", "姓名", "所在单位"]
    headings = [*who, *(heading for _, heading, _ in COLUMNS)]
    if compared:
        headings += [f"上期{heading}" for _, heading, _ in COLUMNS]

    def values(figures: Figures | None) -> list[Cell]:
        return [None if figures is None else getattr(figures, field) for field, _, _ in COLUMNS]

    def line(row: PerformanceRow) -> list[Cell]:
        name = f"{row.name}（本级）" if row.own else row.name
        head: list[Cell] = [row.key, name] if read.by == "unit" else [row.key, row.name, row.unit]
        return [*head, *values(row.figures), *(values(row.previous) if compared else [])]

    total = line(read.total)
    total[: len(who)] = ["合计", *[""] * (len(who) - 1)]
    return headings, [*(line(row) for row in read.rows), total]


def title(read: PerformanceRead) -> str:
    what = "单位" if read.by == "unit" else "人员"
    return f"{read.unit_name}{what}办件绩效 {read.first}至{read.last}"


def to_csv(read: PerformanceRead) -> bytes:
    headings, rows = table(read)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(heading) for heading in headings])
    writer.writerows([[safe_cell("" if cell is None else cell) for cell in row] for row in rows])
    return ("\ufeff" + buffer.getvalue()).encode()  # the BOM: Excel opens UTF-8 Chinese correctly


def to_xlsx(read: PerformanceRead) -> bytes:
    headings, rows = table(read)
    first = len(headings) - len(COLUMNS) * (2 if read.previous_first else 1)  # the first figure's column
    rates = [i for i, (_, _, rate) in enumerate(COLUMNS) if rate]
    rate_columns = {first + i for i in rates} | ({first + len(COLUMNS) + i for i in rates} if read.previous_first
                                                  else set())  # fmt: skip
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                        "strings_to_numbers": False})  # fmt: skip
    sheet = book.add_worksheet("绩效")
    bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    percent = book.add_format({"num_format": "0.0%"})
    sheet.write_string(0, 0, title(read), book.add_format({"bold": True, "font_size": 14}))
    if read.previous_first:
        sheet.write_string(1, 0, f"对比期间：{read.previous_first}至{read.previous_last}")
    sheet.write_row(2, 0, headings, bold)
    for r, row in enumerate(rows, start=3):
        for c, cell in enumerate(row):
            if cell is None:
                continue
            if isinstance(cell, str):
                sheet.write_string(r, c, cell)
            else:
                sheet.write_number(r, c, cell, percent if c in rate_columns else None)
    sheet.freeze_panes(3, 2)
    sheet.set_column(0, 0, 16)
    sheet.set_column(1, 2, 22)
    book.close()
    return buffer.getvalue()
