"""The CJK font behind the printed notices: lookup, caching and a small per-document font.

Debian's ``fonts-noto-cjk`` ships Noto Sans CJK as TrueType *collections* of CID-keyed CFF faces
(``NotoSansCJK-Regular.ttc``: JP, KR, SC, TC, HK, and the Mono variants). fpdf2 2.8 reads them
(``add_font(..., collection_font_number=2)`` picks the SC face) but spends ~1.5 s per document:
it parses the 65,535-glyph face on every ``add_font`` and subsets the CFF on every ``output``.

So this module parses each face once per process and keeps it, converts each character's outline
to a TrueType (quadratic) glyph the first time a notice needs it (cached), and per document
builds a font holding only that document's characters (a few hundred glyphs; a few ms). fpdf2
then embeds and subsets that small font like any other.

Lookup order: the paths given to :func:`font_candidates` (by default ``$FUQUAN_CJK_FONT``, read
at call time, then the standard Debian/Fedora/Arch locations of Noto Sans CJK, which covers every
CJK character, then the Noto Sans SC subset shipped in ``documents/data`` — GB 2312 and every
character of the product's texts — so a fresh machine prints notices too). Only an explicit list
without a usable file fails: :class:`FontMissing` (503) tells the operator what to install.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any, NamedTuple

import structlog
from fontTools.fontBuilder import FontBuilder  # type: ignore[import-untyped]
from fontTools.pens.cu2quPen import Cu2QuPen  # type: ignore[import-untyped]
from fontTools.pens.ttGlyphPen import TTGlyphPen  # type: ignore[import-untyped]
from fontTools.ttLib import TTCollection, TTFont, TTLibError, newTable  # type: ignore[import-untyped]
from fontTools.ttLib.tables._g_l_y_f import Glyph  # type: ignore[import-untyped]

from fuquan.platform.core.errors import IntegrationUnavailable

log = structlog.get_logger()

FONT_ENV = "FUQUAN_CJK_FONT"
"""Environment variable naming a CJK font file (.ttc/.otc/.otf/.ttf) to use instead of the defaults."""

DEFAULT_FONT_PATHS: tuple[str, ...] = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # Debian/Ubuntu: fonts-noto-cjk
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",  # Fedora: google-noto-sans-cjk-ttc-fonts
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",  # Arch: noto-fonts-cjk
)

BUNDLED_FONT_PATH = str(Path(__file__).with_name("data") / "NotoSansSC-Regular-subset.ttf")
"""Shipped with the package (SIL OFL 1.1): the last resort, always present in an intact installation."""

APT_HINT = "apt-get install fonts-noto-cjk"

_CU2QU_MAX_ERR = 1.0  # font units (of 1000 per em): invisible at any print size
_PREFERRED_FACE_TAGS = (" SC", " CN", " GB", "SC ", "Simplified")


class FontMissing(IntegrationUnavailable):
    """No usable CJK font on this machine: notices cannot be printed until an operator installs one."""

    title = "缺少中文字体"
    type_slug = "font-missing"


def font_candidates(override: str | None = None) -> list[str]:
    """Where to look, in order: ``override`` (default: ``$FUQUAN_CJK_FONT`` now), the system's Noto Sans
    CJK, then the font shipped with the package."""
    if override is None:
        override = os.environ.get(FONT_ENV)
    paths = [override] if override else []
    return paths + [p for p in (*DEFAULT_FONT_PATHS, BUNDLED_FONT_PATH) if p != override]


@dataclass(frozen=True)
class FontFiles:
    regular: Path
    bold: Path | None  # None: print bold text in the regular face


def find_font(paths: Sequence[str | os.PathLike[str]] | None = None) -> FontFiles:
    """The first existing file among ``paths`` (default :func:`font_candidates`) and its Bold sibling."""
    searched = [str(p) for p in (font_candidates() if paths is None else paths)]
    for candidate in searched:
        path = Path(candidate)
        if path.is_file():
            bold = path.with_name(path.name.replace("Regular", "Bold"))
            return FontFiles(regular=path, bold=bold if bold != path and bold.is_file() else None)
    raise FontMissing(
        "未找到中文字体，无法生成 PDF 通知书。请运维人员安装 fonts-noto-cjk 字体包"
        f"（{APT_HINT}），或设置环境变量 {FONT_ENV} 指向 NotoSansCJK-Regular.ttc 等中文字体文件。"
        f"已查找：{'、'.join(searched) or '（无）'}",
        rule="cjk_font_required",
        searched=searched,
    )


class _GlyphEntry(NamedTuple):
    data: bytes  # compiled TrueType glyph
    advance: int
    lsb: int
    points: int
    contours: int


def _glyph_name(codepoint: int) -> str:
    return f"uni{codepoint:04X}" if codepoint <= 0xFFFF else f"u{codepoint:05X}"


def _pick_face(path: Path) -> int:
    """The Simplified Chinese face of a collection (Noto: index 2, "Noto Sans CJK SC"); 0 otherwise."""
    if path.suffix.lower() not in (".ttc", ".otc"):
        return 0
    collection = TTCollection(str(path), lazy=True)
    try:
        names = [str(face["name"].getDebugName(1) or "") for face in collection.fonts]
    finally:
        collection.close()
    for index, name in enumerate(names):
        if "Mono" not in name and any(tag in f"{name} " for tag in _PREFERRED_FACE_TAGS):
            return index
    return 0


class SourceFace:
    """One face of an installed font, parsed once; its glyphs converted on first use and cached.

    fontTools reads the file lazily through one handle, so every access to the parsed font
    happens under ``_lock``; the per-document font building works on cached bytes outside it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.face_index = _pick_face(path)
        self._lock = threading.Lock()
        font = TTFont(str(path), fontNumber=self.face_index, lazy=True, recalcTimestamp=False)
        self._font = font
        self._reverse = "CFF " in font or "CFF2" in font  # cubic outlines run the other way round
        self.cmap: dict[int, str] = dict(font.getBestCmap() or {})
        if not self.cmap:
            raise TTLibError(f"{path}: no Unicode cmap")
        self._hmtx: dict[str, tuple[int, int]] = font["hmtx"].metrics
        self._glyphset = font.getGlyphSet()
        self._cache: dict[int, _GlyphEntry] = {}
        head, hhea, os2, post, name = font["head"], font["hhea"], font["OS/2"], font["post"], font["name"]
        self.units_per_em = int(head.unitsPerEm)
        self.full_name = str(name.getDebugName(4) or path.stem)
        self._head = {
            "unitsPerEm": head.unitsPerEm,
            "fontRevision": head.fontRevision,
            "created": head.created,
            "modified": head.modified,
            "macStyle": head.macStyle,
            "xMin": head.xMin,
            "yMin": head.yMin,
            "xMax": head.xMax,
            "yMax": head.yMax,
        }
        self._hhea = {
            key: getattr(hhea, key)
            for key in (
                "ascent",
                "descent",
                "lineGap",
                "advanceWidthMax",
                "minLeftSideBearing",
                "minRightSideBearing",
                "xMaxExtent",
            )
        }
        os2_keys = (
            "fsType",
            "xAvgCharWidth",
            "usWeightClass",
            "usWidthClass",
            "fsSelection",
            "sTypoAscender",
            "sTypoDescender",
            "sTypoLineGap",
            "usWinAscent",
            "usWinDescent",
            "ySubscriptXSize",
            "ySubscriptYSize",
            "ySuperscriptXSize",
            "ySuperscriptYSize",
            "yStrikeoutSize",
            "yStrikeoutPosition",
            "sFamilyClass",
            "achVendID",
            "ulUnicodeRange1",
            "ulUnicodeRange2",
            "ulUnicodeRange3",
            "ulUnicodeRange4",
            "ulCodePageRange1",
            "ulCodePageRange2",
            "sxHeight",
            "sCapHeight",
        )
        self._os2 = {key: getattr(os2, key) for key in os2_keys if hasattr(os2, key)}
        self._post = {
            key: getattr(post, key)
            for key in ("italicAngle", "underlinePosition", "underlineThickness", "isFixedPitch")
        }
        self._names: dict[str | int, str] = {}
        for name_id in (0, 1, 2, 3, 4, 5, 6, 13, 14):
            value = name.getDebugName(name_id)
            if value:
                self._names[name_id] = str(value)
        with self._lock:
            self._notdef = self._convert(font.getGlyphOrder()[0])

    def close(self) -> None:
        with self._lock:
            self._font.close()

    def covers(self, codepoint: int) -> bool:
        return codepoint in self.cmap

    def _convert(self, glyph_name: str) -> _GlyphEntry:
        pen = TTGlyphPen(None)
        self._glyphset[glyph_name].draw(Cu2QuPen(pen, _CU2QU_MAX_ERR, reverse_direction=self._reverse))
        glyph = pen.glyph(dropImpliedOnCurves=True)
        data = glyph.compile(None, recalcBBoxes=True)
        advance = self._hmtx[glyph_name][0]
        if glyph.numberOfContours <= 0:
            return _GlyphEntry(data, advance, 0, 0, 0)
        return _GlyphEntry(data, advance, int(glyph.xMin), len(glyph.coordinates), glyph.numberOfContours)

    def glyphs(self, codepoints: Iterable[int]) -> dict[int, _GlyphEntry]:
        """Cached TrueType glyphs for the covered ``codepoints`` (converting the ones not seen before)."""
        wanted = sorted({cp for cp in codepoints if cp in self.cmap})
        found = {cp: entry for cp in wanted if (entry := self._cache.get(cp)) is not None}
        if len(found) < len(wanted):
            with self._lock:
                for cp in wanted:
                    if cp not in found:
                        entry = self._cache.get(cp)
                        if entry is None:
                            entry = self._cache[cp] = self._convert(self.cmap[cp])
                        found[cp] = entry
        return found

    def build(self, codepoints: Iterable[int]) -> bytes:
        """A TrueType font with just ``codepoints`` (those this face covers), as file bytes."""
        entries = self.glyphs(codepoints)
        order = [".notdef"] + [_glyph_name(cp) for cp in sorted(entries)]
        glyph_entries = [self._notdef] + [entries[cp] for cp in sorted(entries)]

        builder = FontBuilder(self.units_per_em, isTTF=True)
        builder.font.recalcBBoxes = False  # the glyphs carry their boxes; keep the cached bytes as they are
        builder.setupHead(**self._head)
        builder.setupGlyphOrder(order)
        builder.setupCharacterMap({cp: _glyph_name(cp) for cp in entries})
        glyf = newTable("glyf")
        glyf.glyphs = {name: Glyph(entry.data) for name, entry in zip(order, glyph_entries, strict=True)}
        glyf.glyphOrder = order
        builder.font["glyf"] = glyf
        builder.font["loca"] = newTable("loca")
        maxp = builder.font["maxp"]
        maxp.maxPoints = max(entry.points for entry in glyph_entries)
        maxp.maxContours = max(entry.contours for entry in glyph_entries)
        maxp.maxZones = 1
        builder.setupHorizontalMetrics(
            {name: (entry.advance, entry.lsb) for name, entry in zip(order, glyph_entries, strict=True)}
        )
        builder.setupHorizontalHeader(**self._hhea)
        builder.setupNameTable(self._names, mac=False)
        builder.setupOS2(**self._os2)
        builder.setupPost(keepGlyphNames=False, **self._post)
        out = BytesIO()
        builder.save(out)
        return out.getvalue()


_faces: dict[Path, SourceFace] = {}
_faces_lock = threading.Lock()


def source_face(path: Path) -> SourceFace:
    """The cached :class:`SourceFace` for ``path`` (parsed on first use, ~0.2 s)."""
    key = path.resolve()
    face = _faces.get(key)
    if face is not None:
        return face
    with _faces_lock:
        face = _faces.get(key)
        if face is None:
            try:
                face = SourceFace(key)
            except (OSError, TTLibError, KeyError, AssertionError) as exc:
                raise FontMissing(
                    f"中文字体文件 {key} 无法读取（{type(exc).__name__}），无法生成 PDF 通知书。"
                    f"请运维人员重新安装 fonts-noto-cjk 字体包（{APT_HINT}）或设置 {FONT_ENV}。",
                    rule="cjk_font_required",
                    searched=[str(path)],
                ) from exc
            _faces[key] = face
            log.info("document_font_loaded", path=str(key), face=face.face_index, name=face.full_name)
    return face


def clear_cache() -> None:
    """Forget every parsed face (tests; or after the fonts on disk were replaced)."""
    with _faces_lock:
        for face in _faces.values():
            face.close()
        _faces.clear()


def cache_info() -> dict[str, Any]:
    return {str(path): len(face._cache) for path, face in _faces.items()}
