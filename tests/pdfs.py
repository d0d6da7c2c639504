"""Reading generated PDFs back in tests with PDFium (pypdfium2): text, metadata, pages as images, embedded
images and where each character sits. No system tool (poppler) needed."""

from __future__ import annotations

from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image


@dataclass(frozen=True)
class PdfFacts:
    pages: int
    text: str
    metadata: dict[str, str]
    page_sizes: list[tuple[float, float]]


def _open(pdf: bytes) -> pdfium.PdfDocument:
    return pdfium.PdfDocument(pdf)


def read(pdf: bytes) -> PdfFacts:
    document = _open(pdf)
    try:
        texts, sizes = [], []
        for page in document:
            texts.append(page.get_textpage().get_text_bounded())
            sizes.append(page.get_size())
        return PdfFacts(len(document), "\n".join(texts), dict(document.get_metadata_dict()), sizes)
    finally:
        document.close()


def text(pdf: bytes) -> str:
    """The text of every page, lines joined as PDFium reads them (a wrapped sentence breaks at its line end)."""
    return read(pdf).text


def flat_text(pdf: bytes) -> str:
    """The text without line breaks, so that a phrase wrapped across lines is still found."""
    return "".join(text(pdf).split())


def page_count(pdf: bytes) -> int:
    return read(pdf).pages


def rasterise(pdf: bytes, resolution: int = 50) -> list[Image.Image]:
    """Every page as an image at ``resolution`` dots per inch."""
    document = _open(pdf)
    try:
        return [page.render(scale=resolution / 72).to_pil() for page in document]
    finally:
        document.close()


def images(pdf: bytes) -> list[Image.Image]:
    """The images embedded in the pages, at their own pixel size."""
    document = _open(pdf)
    try:
        found = []
        for page in document:
            for image in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]):
                found.append(image.get_bitmap().to_pil())  # type: ignore[attr-defined]
        return found
    finally:
        document.close()


def characters_off_the_page(pdf: bytes, side: float = 40, bottom: float = 20) -> list[str]:
    """Printed characters whose box leaves the type area: closer than ``side`` pt to the left or right
    edge, or than ``bottom`` pt to the foot of the page."""
    document = _open(pdf)
    try:
        off = []
        for page in document:
            width, _ = page.get_size()
            textpage = page.get_textpage()
            for index in range(textpage.count_chars()):
                char = textpage.get_text_range(index, 1)
                if not char.strip():
                    continue
                left, low, right, _top = textpage.get_charbox(index)
                if left < side or right > width - side or low < bottom:
                    off.append(char)
        return off
    finally:
        document.close()
