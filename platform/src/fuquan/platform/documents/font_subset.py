"""Build the CJK font shipped with Fuquan: Noto Sans SC cut down to what notices can print.

A fresh machine has no Chinese font, and notices must still print. The package therefore carries
``documents/data/NotoSansSC-{Regular,Bold}-subset.ttf`` (SIL OFL 1.1), made by this module from
Google Fonts' static Noto Sans SC TrueType files (npm ``@expo-google-fonts/noto-sans-sc``)::

    npm pack @expo-google-fonts/noto-sans-sc && tar xzf expo-google-fonts-noto-sans-sc-*.tgz
    python -m fuquan.platform.documents.font_subset package/400Regular/NotoSansSC_400Regular.ttf \\
        package/700Bold/NotoSansSC_700Bold.ttf

The subset holds every character of GB 2312 (GB 18030's level-1 and level-2 hanzi, 6,763, with
its symbols), ASCII and Latin-1, and every character the product's own texts use: templates,
catalogue, code, and every unit name of the national division file (rare place-name characters
such as 㙟 included). ``tests/unit/platform/test_documents.py`` fails when a text gains a
character the shipped font lacks, so the font is rebuilt with the change that needs it.
"""

from __future__ import annotations

import lzma
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from fontTools import subset  # type: ignore[import-untyped]
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

DATA_DIR = Path(__file__).with_name("data")
REGULAR = DATA_DIR / "NotoSansSC-Regular-subset.ttf"
BOLD = DATA_DIR / "NotoSansSC-Bold-subset.ttf"
GAPS = DATA_DIR / "not-in-noto-sans-sc.txt"
"""Characters the product's texts use that the source font has no glyph for (written by :func:`main`)."""

_TEXT_SUFFIXES = {".py", ".html", ".jinja", ".yaml", ".yml", ".csv", ".txt", ".json", ".md", ".xz"}
_SKIP_PARTS = {"static", "__pycache__"}  # vendored front-end code: not printed on a notice


def gb2312() -> set[str]:
    """Every character GB 2312 encodes: rows 1-9 symbols, 16-55 level-1 and 56-87 level-2 hanzi."""
    found: set[str] = set()
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                found.add(bytes((high, low)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return found


def _source_roots() -> list[Path]:
    """The four source roots' ``fuquan`` folders (this file lives in platform/src/fuquan/platform/documents)."""
    repository = Path(__file__).resolve().parents[5]
    roots = [repository / name / "src" / "fuquan" for name in ("platform", "authority", "tenants", "integrations")]
    return [root for root in roots if root.is_dir()]


def product_text_files(roots: Iterable[Path] | None = None) -> Iterator[Path]:
    for root in _source_roots() if roots is None else roots:
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix in _TEXT_SUFFIXES and not _SKIP_PARTS & set(path.parts):
                yield path


def product_characters(roots: Iterable[Path] | None = None) -> set[str]:
    """Every printable non-ASCII character in the product's own text files (the .xz division file decoded)."""
    found: set[str] = set()
    for path in product_text_files(roots):
        raw = lzma.decompress(path.read_bytes()) if path.suffix == ".xz" else path.read_bytes()
        found |= set(raw.decode("utf-8", errors="ignore"))
    return {char for char in found if ord(char) > 0x7F and char.isprintable()}


def wanted_characters(used: set[str]) -> set[str]:
    latin = {chr(code) for code in range(0x20, 0x7F)} | {chr(code) for code in range(0xA0, 0x100)}
    return gb2312() | latin | used | {"\u3000"}


def recorded_gaps() -> set[str]:
    return {line.split()[1] for line in GAPS.read_text(encoding="utf-8").splitlines() if line.startswith("U+")}


def build(source: Path, target: Path, characters: set[str]) -> int:
    """Write ``target``: ``source`` with just ``characters`` (those it has); returns the glyph count."""
    font = TTFont(str(source))
    cmap = font.getBestCmap()
    options = subset.Options()
    options.layout_features = []  # fpdf2 lays text out glyph by glyph: no shaping tables needed
    options.drop_tables += ["BASE", "STAT", "vhea", "vmtx", "GSUB", "GPOS", "GDEF"]
    options.hinting = False
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(ord(char) for char in characters if ord(char) in cmap))
    subsetter.subset(font)
    font.save(str(target))
    return int(font["maxp"].numGlyphs)


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        raise SystemExit("usage: python -m fuquan.platform.documents.font_subset REGULAR.ttf BOLD.ttf")
    used, gaps = product_characters(), set()
    characters = wanted_characters(used)
    DATA_DIR.mkdir(exist_ok=True)
    for source, target in zip(map(Path, argv), (REGULAR, BOLD), strict=True):
        glyphs = build(source, target, characters)
        cmap = TTFont(str(source)).getBestCmap()
        gaps |= {char for char in used if ord(char) not in cmap}
        print(f"{target.name}: {glyphs} glyphs, {target.stat().st_size:,} bytes")
    lines = [f"U+{ord(char):04X} {char}" for char in sorted(gaps)]
    header = "# characters of the product's texts that Noto Sans SC has no glyph for\n"
    GAPS.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
