"""PDF notices: each kind renders, reads back as Chinese text, rasterises, stays on the page, encodes the
progress URL in its QR code, and fails clearly without a font.

PDFs are read back with PDFium (tests/pdfs.py): no system tool. Every notice is rendered with the font shipped
in the package (what a fresh machine without Chinese fonts prints with) and with the font the machine would
choose by default (Debian's Noto Sans CJK where installed).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import msgspec
import pytest
import segno
from structlog.testing import capture_logs

from fuquan.platform.core.errors import IntegrationUnavailable
from fuquan.platform.documents import (
    TITLES,
    CertificateMark,
    FontMissing,
    NoticeData,
    find_font,
    font_candidates,
    font_subset,
    fonts,
    render_pdf,
    warm_up,
)
from fuquan.platform.documents.fonts import BUNDLED_FONT_PATH, FONT_ENV
from pdfs import characters_off_the_page, flat_text, images, page_count, rasterise, read

FONTS = {"shipped": [BUNDLED_FONT_PATH], "default": None}


@pytest.fixture(params=list(FONTS))
def font_paths(request: pytest.FixtureRequest) -> list[str] | None:
    return FONTS[request.param]


FULL_ID_NUMBER = re.compile(r"\d{17}[\dXx]")

BASE = {
    "organ_name": "长胜街道办事处",
    "unit_name": "长胜街道便民服务中心",
    "item_code": "640202001",
    "item_name": "失业保险金申领",
    "receipt_no": "640202001-20261103-0007",
    "query_code": "K7M2QX",
    "applicant_name_masked": "张*",
    "applicant_id_masked": "6402**********1234",
    "issued_at": datetime(2026, 11, 3, 6, 35, tzinfo=UTC),
    "staff_name": "李明",
    "progress_url": "https://fuquan.example.gov.cn/progress/640202001-20261103-0007?code=K7M2QX",
    "contact": "0951-6012345",
}
MATERIALS = [("居民身份证", "共享数据核验通过"), ("户口簿", "共享数据核验通过"), ("社会保障卡", "已上传")]


def notice(kind: str, **changes: object) -> NoticeData:
    fields: dict[str, object] = {**BASE, "kind": kind, "materials": MATERIALS}
    if kind == "receipt":
        fields |= {"accepted_on": date(2026, 11, 3), "deadline": date(2026, 11, 10), "promised_days": 5}
    elif kind == "supplement_notice":
        fields |= {"deadline": date(2026, 11, 10), "reasons": ["解除劳动合同证明原件（须加盖单位公章）"]}
    elif kind == "refusal_notice":
        fields |= {"reasons": ["累计缴纳失业保险费不满一年，不符合领取条件。"]}
    elif kind == "special_procedure_notice":  # 特别程序: its reason and its own last day
        fields |= {"accepted_on": date(2026, 11, 3), "deadline": date(2026, 12, 1), "reasons": ["需要专家评审"]}
    elif kind == "extension_notice":  # 延期: the reason, the new promised days and the new last day
        fields |= {"accepted_on": date(2026, 11, 3), "deadline": date(2026, 12, 15), "promised_days": 30,
                   "reasons": ["需向外省社保机构核实参保记录"]}  # fmt: skip
    elif kind == "escalation_transfer":  # the 办不成事 desk's sheet: the problem as the reason, tier 1's last day
        fields |= {"accepted_on": date(2026, 11, 3), "deadline": date(2026, 11, 4), "materials": [],
                   "reasons": ["失业保险金申领在窗口三次未办成，每次要求补交不同材料。"]}  # fmt: skip
    else:
        fields |= {"accepted_on": date(2026, 11, 3), "decision": "approved", "reasons": ["核定领取期限12个月。"]}
    return NoticeData(**(fields | changes))  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", list(TITLES))
def test_each_kind_renders_readable_chinese(kind: str, font_paths: list[str] | None) -> None:
    data = notice(kind)
    with capture_logs() as logs:
        pdf = render_pdf(data, font_paths=font_paths)

    assert pdf.startswith(b"%PDF")
    text = flat_text(pdf)
    assert TITLES[kind] in text  # type: ignore[index]
    assert data.receipt_no in text
    assert "张*" in text and "6402**********1234" in text
    assert data.organ_name in text and "失业保险金申领" in text
    if kind in ("receipt", "result_notice", "escalation_transfer"):
        assert data.unit_name in text  # where to collect the result, or where the problem was registered
    assert "扫码查询办理进度" in text and "K7M2QX" in text
    assert not FULL_ID_NUMBER.search(text)
    # every character was in the font built for the document at the first attempt
    retried = ("document_font_extended", "document_characters_unprintable")
    assert not [entry for entry in logs if entry["event"] in retried]

    pages = rasterise(pdf)
    assert len(pages) == page_count(pdf) >= 1
    assert all(len(page.convert("L").getcolors(256) or []) > 10 for page in pages)  # drawn, not blank
    assert characters_off_the_page(pdf) == []


def test_kind_specific_wording(font_paths: list[str] | None) -> None:
    def words(data: NoticeData) -> str:
        return flat_text(render_pdf(data, font_paths=font_paths))

    assert "准予办理" in words(notice("result_notice"))
    denied = words(notice("result_notice", decision="denied"))
    assert "不予办理" in denied and "行政复议" in denied
    assert "行政复议" in words(notice("refusal_notice"))
    receipt = words(notice("receipt"))
    assert "5个工作日" in receipt and "2026年11月10日" in receipt
    assert "需补正的材料及要求" in words(notice("supplement_notice"))


def test_issued_at_is_printed_in_beijing_time() -> None:
    late = notice("receipt", issued_at=datetime(2026, 11, 3, 17, 30, tzinfo=UTC))  # 01:30 next day in Beijing
    assert "2026年11月4日01:30" in flat_text(render_pdf(late))


def test_metadata() -> None:
    facts = read(render_pdf(notice("refusal_notice")))
    assert facts.metadata["Title"] == "不予受理通知书 640202001-20261103-0007"
    assert facts.metadata["Creator"] == "Fuquan 赋权"
    assert [(round(width), round(height)) for width, height in facts.page_sizes] == [(595, 842)]  # A4


def test_qr_code_encodes_the_progress_url() -> None:
    data = notice("receipt")
    [image] = images(render_pdf(data))
    image = image.convert("L")
    matrix = [list(row) for row in segno.make(data.progress_url, error="m", micro=False).matrix]
    step = image.size[0] / len(matrix)
    drawn = [
        [image.getpixel((int((x + 0.5) * step), int((y + 0.5) * step))) < 128 for x in range(len(matrix))]
        for y in range(len(matrix))
    ]
    assert drawn == [[bool(module) for module in row] for row in matrix]


def test_long_content_wraps_and_continues_on_further_pages(font_paths: list[str] | None) -> None:
    sentence = "申请人在申请期间内已按月领取失业保险金，根据相关规定不得同时享受补贴。"
    reasons = [f"第{i}项：" + sentence * 3 for i in range(40)]
    reasons += ["无空格的超长字符串" + "A" * 400, "https://example.gov.cn/" + "x" * 300]
    data = notice(
        "refusal_notice",
        item_name="就业困难人员社会保险补贴申领（灵活就业人员、公益性岗位安置人员及离校两年内未就业高校毕业生）" * 3,
        unit_name="乌鲁木齐市沙依巴克区西山街道办事处党群服务中心便民服务大厅人力资源和社会保障服务窗口",
        materials=[(f"材料{i}" + "劳动合同或者其他能够证明劳动关系的材料" * 3, "缺少") for i in range(25)],
        reasons=reasons,
        contact=None,
    )
    pdf = render_pdf(data, font_paths=font_paths)
    assert page_count(pdf) > 2
    text = flat_text(pdf)
    assert "第39项" in text and "特此通知" in text and "（续）" in text
    assert characters_off_the_page(pdf) == []
    assert len(rasterise(pdf)) == page_count(pdf)


def test_many_documents_reuse_the_cached_font() -> None:
    warm_up()
    base = notice("receipt")
    for number in range(20):
        pdf = render_pdf(msgspec.structs.replace(base, receipt_no=f"640202001-20261103-{number:04d}"))
        assert pdf.startswith(b"%PDF")


def test_rendering_is_deterministic_and_uses_no_temp_files(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("rendering must not create temporary files")

    for name in ("mkstemp", "mkdtemp", "NamedTemporaryFile", "TemporaryFile", "TemporaryDirectory"):
        monkeypatch.setattr(tempfile, name, forbidden)
    data = notice("supplement_notice")
    assert render_pdf(data) == render_pdf(data)


def test_missing_font_is_a_clear_integration_error(tmp_path: Path) -> None:
    with pytest.raises(FontMissing):
        warm_up([tmp_path / "nope.ttc"])
    with pytest.raises(FontMissing) as caught:
        render_pdf(notice("receipt"), font_paths=[tmp_path / "nope.ttc", "/nonexistent/NotoSansCJK-Regular.ttc"])
    assert isinstance(caught.value, IntegrationUnavailable) and caught.value.status == 503
    assert "apt-get install fonts-noto-cjk" in caught.value.detail
    assert "/nonexistent/NotoSansCJK-Regular.ttc" in caught.value.detail


def test_unreadable_font_file_is_font_missing(tmp_path: Path) -> None:
    broken = tmp_path / "Broken-Regular.ttc"
    broken.write_bytes(b"not a font")
    with pytest.raises(FontMissing, match="fonts-noto-cjk"):
        render_pdf(notice("receipt"), font_paths=[broken])


def test_font_override_is_read_when_called(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(fonts, "DEFAULT_FONT_PATHS", ("/nonexistent/NotoSansCJK-Regular.ttc",))
    monkeypatch.setenv(FONT_ENV, str(tmp_path / "Custom-Regular.otf"))
    assert font_candidates()[0] == str(tmp_path / "Custom-Regular.otf")
    assert str(find_font().regular) == BUNDLED_FONT_PATH  # the override does not exist: next candidate

    custom = tmp_path / "Custom-Regular.ttf"
    shutil.copy(BUNDLED_FONT_PATH, custom)
    monkeypatch.setenv(FONT_ENV, str(custom))
    files = find_font()
    assert files.regular == custom and files.bold is None  # no Custom-Bold.ttf beside it: bold in the regular face
    assert flat_text(render_pdf(notice("receipt"))).startswith(BASE["organ_name"])  # type: ignore[arg-type]


def test_a_notice_names_the_body_that_acted_for_the_organ() -> None:
    """Issue 17: a notice another body took the step for is issued in the organ's name, under the letterhead and over
    the seal, with that body named beside it; one the organ took itself names nobody else."""
    note = "朝阳社区居民委员会代长胜街道办事处收件（代收代办）"
    text = flat_text(render_pdf(notice("receipt", handling_note=note)))
    assert text.startswith("长胜街道办事处" + note)
    assert text.count(note) == 2  # the letterhead and the signature
    assert "本机关决定予以受理" in text
    assert "代收代办" not in flat_text(render_pdf(notice("receipt")))


def test_a_fresh_machine_prints_with_the_shipped_font(monkeypatch: pytest.MonkeyPatch) -> None:
    """No $FUQUAN_CJK_FONT and no system font: the Noto Sans SC subset in the package, regular and bold."""
    monkeypatch.delenv(FONT_ENV, raising=False)
    monkeypatch.setattr(fonts, "DEFAULT_FONT_PATHS", ("/nonexistent/NotoSansCJK-Regular.ttc",))
    files = find_font()
    assert str(files.regular) == BUNDLED_FONT_PATH
    assert files.bold is not None and files.bold.name == "NotoSansSC-Bold-subset.ttf"
    assert "受理通知书" in flat_text(render_pdf(notice("receipt")))


def test_the_system_font_is_preferred_when_installed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(FONT_ENV, raising=False)
    system = tmp_path / "NotoSansCJK-Regular.ttf"
    shutil.copy(BUNDLED_FONT_PATH, system)
    monkeypatch.setattr(fonts, "DEFAULT_FONT_PATHS", (str(system),))
    assert find_font().regular == system
    assert font_candidates()[-1] == BUNDLED_FONT_PATH


def test_the_shipped_font_covers_gb2312_and_every_product_text() -> None:
    """A template, the catalogue or a division name gaining a character the shipped font lacks fails here:
    rebuild the font with ``python -m fuquan.platform.documents.font_subset`` (see its docstring)."""
    from fontTools.ttLib import TTFont

    for path in (BUNDLED_FONT_PATH, BUNDLED_FONT_PATH.replace("Regular", "Bold")):
        covered = set(TTFont(path).getBestCmap())
        hanzi = {char for char in font_subset.gb2312() if "\u4e00" <= char <= "\u9fff"}
        assert len(hanzi) == 6763 and not {char for char in hanzi if ord(char) not in covered}
        lacking = {char for char in font_subset.product_characters() if ord(char) not in covered}
        # what Noto Sans SC itself lacks (a few marks, two place-name characters of CJK extension B) is
        # recorded when the font is built; anything else missing means the font needs rebuilding
        assert lacking <= font_subset.recorded_gaps()


def test_notice_data_refuses_unmasked_personal_data() -> None:
    with pytest.raises(ValueError, match="masked"):
        notice("receipt", applicant_id_masked="640202199001011234")
    with pytest.raises(ValueError, match="masked"):
        notice("receipt", applicant_name_masked="张三")
    with pytest.raises(ValueError, match="query_code"):
        notice("receipt", query_code="ABC")
    with pytest.raises(ValueError, match="result_notice"):
        notice("receipt", decision="approved")


def test_notice_data_decodes_from_json() -> None:
    data = notice("result_notice")
    assert msgspec.json.decode(msgspec.json.encode(data), type=NoticeData) == data


def test_an_immediate_item_says_it_is_settled_on_the_spot() -> None:
    """即办件 (issue 18, finding 6): no "0个工作日" on a receipt or a result notice."""
    for kind in ("receipt", "result_notice"):
        text = flat_text(render_pdf(notice(kind, promised_days=0)))
        assert "即办件，当场办结" in text and "0个工作日" not in text, kind


def test_a_result_notice_carries_its_certificate_and_the_organs_seal() -> None:
    """Issue 17: the certificate's number, 核验码, algorithm and key, with the verification address beside its QR
    code; a certificate is printed on an approval only."""
    mark = CertificateMark(number="640202001-20261103-0007-01", verify_code="K7M3Q9TX", title="《就业创业证》",
                           verify_url="https://fuquan.example/verify?no=640202001-20261103-0007-01&code=K7M3Q9TX",
                           key_fingerprint="9EA0DDE6698C6CB6", algorithm="SM2-SM3")  # fmt: skip
    text = flat_text(render_pdf(notice("result_notice", certificate=mark)))
    for part in ("电子证照", mark.number, mark.verify_code, "SM2-SM3", mark.key_fingerprint, "/verify?no="):
        assert part in text, part
    with pytest.raises(ValueError, match="approved"):
        notice("result_notice", certificate=mark, decision="denied")
