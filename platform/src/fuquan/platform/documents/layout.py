"""The page: an A4 notice drawn with fpdf2 — letterhead, wrapped paragraphs, ruled tables,
numbered lists and the closing — with Chinese line breaking (禁则) and explicit page breaks.

Text wraps by character; Latin words, numbers, receipt numbers and URLs stay whole unless they
are wider than a line. No line starts with closing punctuation (，。、）…) or ends with an
opening bracket. Tables and lists continue on further pages, repeating a table's header.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import Literal

from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from fuquan.platform.documents.schemas import NoticeData
from fuquan.platform.documents.seal import draw_seal
from fuquan.platform.documents.wording import CLOSING, QR_CAPTION, SECTION_NUMBERS, SUBTITLES, TITLES

FAMILY = "fuquancjk"

# A4 in millimetres; a type area of 166 mm, like the 156 mm of GB/T 9704 plus a little air.
PAGE_W, PAGE_H = 210.0, 297.0
LEFT, RIGHT, TOP, BOTTOM = 22.0, 22.0, 16.0, 18.0
WIDTH = PAGE_W - LEFT - RIGHT
RED = (190, 22, 28)
INK = (20, 20, 20)
GREY = (110, 110, 110)
RULE = (150, 150, 150)
LABEL_FILL = (241, 241, 238)
QR_SIZE = 26.0
PT = 25.4 / 72  # millimetres per point


@dataclass
class Cell:
    text: str
    style: Literal["label", "value", "head", "number"] = "value"
    span: int = 1


# ----------------------------------------------------------------------------- line breaking

_NO_LINE_START = set("，。、；：？！）》」』】〕〉”’…—·,.;:?!)]}%％～")
_NO_LINE_END = set("（《「『【〔〈“‘([{")
_TOKEN = re.compile(r"[A-Za-z0-9_\-./:@%+#=?&*~]+|\s|.", re.DOTALL)
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


def _tokens(text: str) -> list[str]:
    """Latin words, numbers, receipt numbers and URLs stay whole; CJK breaks between characters."""
    return _TOKEN.findall(text)


def _clean(text: str) -> str:
    """Line breaks normalised to ``\\n``; tabs and other control characters become spaces."""
    return _CONTROL.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))


class NoticePDF(FPDF):
    def __init__(self, data: NoticeData, spacing: float = 1.0) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.data = data
        self.number_label = "登记号" if data.kind == "escalation_transfer" else "受理编号"
        self.spacing = spacing  # vertical spacing factor (< 1 to keep the closing off a page of its own)
        self.closing_alone = False
        self.title_text = TITLES[data.kind]
        self.set_margins(LEFT, TOP, RIGHT)
        self.set_auto_page_break(auto=False)  # every block asks _room() first
        self.alias_nb_pages()
        self.c_margin = 0
        self._widths: dict[tuple[str, float, str], float] = {}

    # -- fpdf hooks ---------------------------------------------------------
    def header(self) -> None:
        if self.page_no() == 1:
            return
        self._font(8.5, color=GREY)
        self.set_xy(LEFT, 10)
        self.cell(WIDTH / 2, 4, f"{self.title_text}（续）")
        self.cell(WIDTH / 2, 4, f"{self.number_label}：{self.data.receipt_no}", align=Align.R)
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        self.line(LEFT, 15, PAGE_W - RIGHT, 15)
        self.set_y(TOP + 2)

    def footer(self) -> None:
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        self.line(LEFT, PAGE_H - 14, PAGE_W - RIGHT, PAGE_H - 14)
        self._font(8.5, color=GREY)
        self.set_xy(LEFT, PAGE_H - 13)
        left = f"{self.data.organ_name}  {self.number_label}：{self.data.receipt_no}"
        if self._width(left) > WIDTH * 0.78:
            left = f"{self.number_label}：{self.data.receipt_no}"
        self.cell(WIDTH * 0.8, 4, left)
        self.cell(WIDTH * 0.2, 4, f"第 {self.page_no()} 页 共 {{nb}} 页", align=Align.R)

    # -- primitives -----------------------------------------------------------
    def _font(self, size: float, *, bold: bool = False, color: tuple[int, int, int] = INK) -> None:
        self.set_font(FAMILY, "B" if bold else "", size)
        self.set_text_color(*color)

    def _width(self, token: str) -> float:
        key = (self.font_style, self.font_size_pt, token)
        width = self._widths.get(key)
        if width is None:
            width = self._widths[key] = self.get_string_width(token)
        return width

    def wrap(self, text: str, width: float, *, first_indent: float = 0.0) -> list[str]:
        """Lines of ``text`` no wider than ``width`` in the current font (禁则: see module doc);
        the first line of each paragraph is ``first_indent`` narrower."""
        lines: list[str] = []
        for paragraph in _clean(text).split("\n"):
            lines.extend(self._wrap_paragraph(paragraph, width, first_indent))
        return lines

    def _wrap_paragraph(self, text: str, full_width: float, first_indent: float) -> list[str]:
        lines: list[list[str]] = []
        line: list[str] = []
        used = 0.0
        for token in _tokens(text):
            width = full_width - (first_indent if not lines else 0.0)
            w = self._width(token)
            if used + w <= width + 1e-6:
                line.append(token)
                used += w
                continue
            if token.isspace():
                continue  # a space at a break disappears
            if w > full_width:  # wider than any line (a long URL, a run of digits): cut it by character
                first, *rest = self._cut(token, width - used, full_width)
                if first:
                    line.append(first)
                lines.append(line)
                lines.extend([piece] for piece in rest[:-1])
                line = [rest[-1]] if rest else []
                used = self._width(rest[-1]) if rest else 0.0
                continue
            carry: list[str] = []
            # keep closing punctuation off the start of the next line: take the last character along
            if token in _NO_LINE_START and len(line) > 1:
                carry.append(line.pop())
            # and opening brackets off the end of this one
            while len(line) > 1 and line[-1] in _NO_LINE_END:
                carry.insert(0, line.pop())
            while line and line[-1].isspace():
                line.pop()
            lines.append(line)
            line = [*carry, token]
            used = sum(self._width(t) for t in line)
            if used > full_width + 1e-6:  # a carried bracket plus a long token: give up on 禁则 here
                lines.append(carry)
                line, used = [token], w
        lines.append(line)
        return ["".join(parts) for parts in lines]

    def _cut(self, token: str, first_width: float, width: float) -> list[str]:
        """``token`` in pieces: the first fits ``first_width`` (it may be empty), the others ``width``."""
        pieces: list[str] = []
        current, used, limit = "", 0.0, first_width
        for char in token:
            w = self._width(char)
            if used + w > limit + 1e-6 and (current or not pieces):
                pieces.append(current)  # on the first line this may be "": nothing fitted there
                current, used, limit = "", 0.0, width
            current += char
            used += w
        pieces.append(current)
        return pieces

    def _lead(self, leading: float) -> float:
        return max(1.3, leading * self.spacing)

    def _room(self, height: float) -> None:
        """Start a new page unless ``height`` more millimetres fit on this one."""
        if self.get_y() + height > PAGE_H - BOTTOM:
            self.add_page()

    def _space_left(self) -> float:
        return PAGE_H - BOTTOM - self.get_y()

    def lines(
        self,
        text: str,
        *,
        size: float = 11.5,
        bold: bool = False,
        color: tuple[int, int, int] = INK,
        x: float = LEFT,
        width: float = WIDTH,
        leading: float = 1.55,
        align: Align = Align.L,
        first_indent: float = 0.0,
    ) -> None:
        """A wrapped paragraph; page breaks fall between its lines."""
        self._font(size, bold=bold, color=color)
        line_h = size * PT * self._lead(leading)
        for paragraph in _clean(text).split("\n"):
            for index, line in enumerate(self._wrap_paragraph(paragraph, width, first_indent)):
                self._room(line_h)
                indent = first_indent if index == 0 else 0.0
                self.set_xy(x + indent, self.get_y())
                self.cell(width - indent, line_h, line, align=align, new_x=XPos.LEFT, new_y=YPos.NEXT)

    # -- blocks -------------------------------------------------------------------
    def letterhead(self, qr_png: bytes) -> None:
        """Red letterhead (the issuing organ), the body that took the step for it if another, a double rule; the
        title and the receipt number centred, flanked on the right by the QR code with its caption and the query
        code."""
        data = self.data
        self.set_y(TOP)
        self.lines(data.organ_name, size=17, bold=True, color=RED, align=Align.C, leading=1.5)
        if data.handling_note:
            self.lines(data.handling_note, size=12.5, color=INK, align=Align.C, leading=1.55)
        y = self.get_y() + 1.2
        self.set_draw_color(*RED)
        self.set_line_width(0.9)
        self.line(LEFT, y, PAGE_W - RIGHT, y)
        self.set_line_width(0.3)
        self.line(LEFT, y + 1.3, PAGE_W - RIGHT, y + 1.3)
        top = y + 5

        qr_x = PAGE_W - RIGHT - QR_SIZE - 5
        self.image(BytesIO(qr_png), x=qr_x, y=top, w=QR_SIZE, h=QR_SIZE)
        caption_x, caption_w = qr_x - 5, QR_SIZE + 10
        self._font(8.5)
        self.set_xy(caption_x, top + QR_SIZE + 1)
        self.cell(caption_w, 4, QR_CAPTION, align=Align.C)
        self._font(9.5, bold=True)
        self.set_xy(caption_x, top + QR_SIZE + 5)
        self.cell(caption_w, 4.5, f"查询码：{data.query_code}", align=Align.C)
        qr_bottom = top + QR_SIZE + 10

        middle_x = LEFT + caption_w + 2
        middle_w = WIDTH - 2 * (caption_w + 2)
        self.set_y(top + 2)
        self.lines(self.title_text, size=21, bold=True, x=middle_x, width=middle_w, align=Align.C, leading=1.45)
        subtitle = SUBTITLES[data.kind]
        if subtitle:
            self.lines(subtitle, size=10.5, color=GREY, x=middle_x, width=middle_w, align=Align.C, leading=1.4)
        self.set_y(self.get_y() + 1.5)
        self._receipt_number(middle_x, middle_w)
        self.set_y(max(self.get_y(), qr_bottom) + 1.5)

    def _receipt_number(self, x: float, width: float) -> None:
        """受理编号 in a box, as large as fits (a receipt number is never wrapped)."""
        text = f"{self.number_label}：{self.data.receipt_no}"
        size = 12.5
        self._font(size, bold=True)
        while size > 8 and self._width(text) + 8 > width:
            size -= 0.5
            self._font(size, bold=True)
        box_w = min(width, self._width(text) + 8)
        box_x = x + (width - box_w) / 2
        y = self.get_y()
        self.set_draw_color(*INK)
        self.set_line_width(0.35)
        self.rect(box_x, y, box_w, 8.5)
        self.set_xy(box_x, y)
        self.cell(box_w, 8.5, text, align=Align.C)
        self.set_y(y + 8.5)

    def heading(self, number: int, text: str) -> None:
        self._room(9 + 16)  # keep a heading with the first lines after it
        self.set_y(self.get_y() + 1.8 * self.spacing)
        self.lines(f"{SECTION_NUMBERS[number - 1]}、{text}", size=12.5, bold=True, leading=1.55)
        self.set_y(self.get_y() + 0.6 * self.spacing)

    def grid(self, widths: Sequence[float], rows: Iterable[list[Cell]], *, header: list[Cell] | None = None) -> None:
        """A ruled table; cells wrap, rows continue on the next page (repeating ``header``)."""
        if header:
            self._room(2 * 9)
            self._row(widths, header)
        for row in rows:
            self._row(widths, row, header=header)
        self.set_y(self.get_y() + 2)

    def _row(self, widths: Sequence[float], cells: list[Cell], *, header: list[Cell] | None = None) -> None:
        size, pad_x, pad_y = 10.5, 2.2, 1.2 * self.spacing
        line_h = size * PT * self._lead(1.42)
        spans: list[tuple[float, float, Cell, list[str]]] = []
        x, column = LEFT, 0
        for cell in cells:
            w = sum(widths[column : column + cell.span])
            self._font(size, bold=cell.style in ("label", "head"))
            spans.append((x, w, cell, self.wrap(cell.text, w - 2 * pad_x)))
            x, column = x + w, column + cell.span
        remaining = [wrapped for *_, wrapped in spans]
        full_h = max(len(r) for r in remaining) * line_h + 2 * pad_y
        if full_h <= PAGE_H - TOP - BOTTOM - 12 and full_h > self._space_left():
            self._new_table_page(widths, header)
        while any(remaining):
            fit = int((self._space_left() - 2 * pad_y) // line_h)
            if fit < 1:
                self._new_table_page(widths, header)
                continue
            take = min(fit, max(len(r) for r in remaining))
            height = take * line_h + 2 * pad_y
            y = self.get_y()
            for (cx, cw, cell, _), chunk_source in zip(spans, remaining, strict=True):
                chunk = chunk_source[:take]
                self._draw_cell(cx, y, cw, height, cell, chunk, line_h, pad_x, size)
            remaining = [r[take:] for r in remaining]
            self.set_y(y + height)

    def _new_table_page(self, widths: Sequence[float], header: list[Cell] | None) -> None:
        self.add_page()
        if header:
            self._row(widths, header)

    def _draw_cell(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        cell: Cell,
        lines: list[str],
        line_h: float,
        pad_x: float,
        size: float,
    ) -> None:
        shaded = cell.style in ("label", "head")
        self.set_draw_color(*RULE)
        self.set_line_width(0.25)
        if shaded:
            self.set_fill_color(*LABEL_FILL)
        self.rect(x, y, w, h, style="DF" if shaded else "D")
        self._font(size, bold=shaded)
        align = Align.C if cell.style in ("head", "number") else Align.L
        top = y + (h - len(lines) * line_h) / 2
        for index, line in enumerate(lines):
            self.set_xy(x + pad_x, top + index * line_h)
            self.cell(w - 2 * pad_x, line_h, line, align=align)

    def numbered(self, items: Sequence[str], *, size: float = 11.5) -> None:
        """1. 2. 3. with a hanging indent."""
        self._font(size)
        line_h = size * PT * self._lead(1.65)
        label_w = self._width(f"{len(items)}.") + 2.5
        for index, item in enumerate(items, start=1):
            self._font(size)
            wrapped = self.wrap(item, WIDTH - 4 - label_w) or [""]
            for line_no, line in enumerate(wrapped):
                self._room(line_h)
                y = self.get_y()
                if line_no == 0:
                    self.set_xy(LEFT + 4, y)
                    self.cell(label_w, line_h, f"{index}.")
                self.set_xy(LEFT + 4 + label_w, y)
                self.cell(WIDTH - 4 - label_w, line_h, line, new_x=XPos.LEFT, new_y=YPos.NEXT)
            self.set_y(self.get_y() + 0.6 * self.spacing)

    def closing(self, issued: str) -> None:
        """特此通知 and, on the right, the issuing organ (with the body that acted for it) and the date (where the seal
        goes)."""
        data = self.data
        block_w = WIDTH * 0.6
        block_x = PAGE_W - RIGHT - block_w - 6
        self._font(12.5, bold=True)
        unit_lines = len(self.wrap(data.organ_name, block_w))
        self._font(9.5)
        note_lines = len(self.wrap(data.handling_note, block_w)) if data.handling_note else 0
        self._font(8.5)
        url_lines = len(self.wrap(f"网上查询：{data.progress_url}", WIDTH))
        lead = self._lead(1.5)
        page = self.page_no()
        self._room(
            (1.5 + 3 + 2.5) * self.spacing
            + 11.5 * PT * self._lead(1.55)
            + (unit_lines * 12.5 + note_lines * 9.5 + 12) * PT * lead
            + url_lines * 8.5 * PT * self._lead(1.45)
        )
        self.closing_alone = self.page_no() != page
        self.set_y(self.get_y() + 1.5 * self.spacing)
        self.lines(CLOSING, first_indent=2 * 11.5 * PT)
        self.set_y(self.get_y() + 3 * self.spacing)
        signed_from = self.get_y()
        self.lines(data.organ_name, size=12.5, bold=True, x=block_x, width=block_w, align=Align.C, leading=1.5)
        if data.handling_note:
            self.lines(data.handling_note, size=9.5, x=block_x, width=block_w, align=Align.C, leading=1.5)
        self.lines(issued, size=12, x=block_x, width=block_w, align=Align.C, leading=1.5)
        if data.certificate is not None and not data.certificate.revoked:  # the seal over the organ and the date
            draw_seal(self, block_x + block_w / 2, (signed_from + self.get_y()) / 2, data.organ_name, FAMILY, RED)
        self.set_y(self.get_y() + 2.5 * self.spacing)
        self.lines(f"网上查询：{data.progress_url}", size=8.5, color=GREY, leading=1.45)
