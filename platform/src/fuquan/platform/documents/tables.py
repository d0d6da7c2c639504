"""Published lists as A4 landscape PDF tables (权力清单、责任清单): a title, a line under it, then sections, each a
heading and a ruled table whose cells wrap and whose header repeats on every page. Fonts as for the notices: the
bundled CJK face, subset to the characters the document prints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from fpdf import FPDF
from fpdf.fonts import FontFace

from fuquan.platform.documents.layout import FAMILY
from fuquan.platform.documents.render import font_faces, install_font

MARGIN = 12.0
RED = (190, 22, 28)


@dataclass(frozen=True, slots=True)
class TableSection:
    heading: str
    columns: Sequence[tuple[str, float]]  # (label, relative width)
    rows: Sequence[Sequence[str]]


def render_table_pdf(title: str, subtitle: str, sections: Sequence[TableSection], *, author: str,
                     created: datetime) -> bytes:  # fmt: skip
    """The document as PDF bytes (raises FontMissing when no CJK font is found, like the notices)."""
    text = title + subtitle + author + "第页共" + "".join(
        section.heading + "".join(label for label, _ in section.columns) + "".join("".join(row) for row in section.rows)
        for section in sections
    ) + "".join(chr(c) for c in range(0x20, 0x7F))  # fmt: skip
    codepoints = {ord(c) for c in text}
    regular, bold = font_faces(None)
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN)
    install_font(pdf, "", regular.build(codepoints))
    install_font(pdf, "B", bold.build(codepoints))
    pdf.set_title(title)
    pdf.set_author(author)
    pdf.set_creator("Fuquan 赋权")
    pdf.set_lang("zh-CN")
    pdf.set_creation_date(created)
    pdf.add_page()
    pdf.set_font(FAMILY, "B", 16)
    pdf.set_text_color(*RED)
    pdf.multi_cell(0, 9, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(20, 20, 20)
    pdf.set_font(FAMILY, "", 9.5)
    pdf.multi_cell(0, 6, subtitle, align="C", new_x="LMARGIN", new_y="NEXT")
    for section in sections:
        pdf.ln(3)
        pdf.set_font(FAMILY, "B", 11.5)
        pdf.multi_cell(0, 7, section.heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FAMILY, "", 8.5)
        if not section.rows:
            pdf.multi_cell(0, 6, "（无）", new_x="LMARGIN", new_y="NEXT")
            continue
        with pdf.table(col_widths=tuple(width for _, width in section.columns), line_height=4.6, text_align="LEFT",
                       headings_style=FontFace(emphasis="BOLD", fill_color=(241, 241, 238))) as table:  # fmt: skip
            header = table.row()
            for label, _width in section.columns:
                header.cell(label)
            for values in section.rows:
                row = table.row()
                for value in values:
                    row.cell(value or "—")
    return bytes(pdf.output())
