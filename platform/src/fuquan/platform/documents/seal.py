"""The organ's seal (印章) as drawn on a notice that carries an e-certificate: a red ring with the organ's name along
its upper arc and a five-pointed star in the middle, the form of an organ's official seal (国务院关于国家行政机关和企业
事业单位印章的规定: round, 4.2 cm, the organ's full name from left to right along the rim, a star in the centre).

It is the seal's appearance; what makes the certificate verifiable is the SM2 signature behind its QR code.
"""

from __future__ import annotations

import math

from fpdf import FPDF

SEAL_RADIUS = 21.0  # mm: 4.2 cm across
RING_WIDTH = 1.1
STAR_RADIUS = 6.8
MAX_ARC_DEGREES = 250.0


def _star(cx: float, cy: float, radius: float) -> list[tuple[float, float]]:
    inner = radius * math.sin(math.radians(18)) / math.sin(math.radians(126))
    points = []
    for i in range(10):
        r = radius if i % 2 == 0 else inner
        angle = math.radians(-90 + 36 * i)
        points.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
    return points


def draw_seal(pdf: FPDF, cx: float, cy: float, name: str, family: str, color: tuple[int, int, int]) -> None:
    """The seal centred on (``cx``, ``cy``), slightly translucent so the signature line stays legible under it."""
    with pdf.local_context(fill_opacity=0.82, stroke_opacity=0.82):
        pdf.set_draw_color(*color)
        pdf.set_fill_color(*color)
        pdf.set_text_color(*color)
        pdf.set_line_width(RING_WIDTH)
        pdf.circle(cx, cy, SEAL_RADIUS - RING_WIDTH / 2, style="D")
        pdf.polygon(_star(cx, cy, STAR_RADIUS), style="F")
        _arc_text(pdf, cx, cy, name, family)


def _arc_text(pdf: FPDF, cx: float, cy: float, name: str, family: str) -> None:
    """The name along the upper arc, each character upright towards the centre, read from left to right."""
    characters = [c for c in name if not c.isspace()]
    if not characters:
        return
    text_radius = SEAL_RADIUS - 6.0
    step = min(MAX_ARC_DEGREES / len(characters), 24.0)
    size_mm = min(6.4, 2 * math.pi * text_radius * step / 360 * 0.95)
    pdf.set_font(family, "B", size_mm / (25.4 / 72))
    start = -step * (len(characters) - 1) / 2
    for i, character in enumerate(characters):
        angle = start + i * step  # degrees clockwise from the top
        width = pdf.get_string_width(character)
        with pdf.rotation(-angle, x=cx, y=cy):  # fpdf2 turns counter-clockwise
            pdf.text(cx - width / 2, cy - text_radius + size_mm * 0.35, character)
