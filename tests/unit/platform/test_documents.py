"""PDF notices: each kind renders, reads back as Chinese text (pdftotext), rasterises (pdftoppm),
stays on the page, encodes the progress URL in its QR code, and fails clearly without a font.

Needs Debian's fonts-noto-cjk and poppler-utils (CI installs both).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
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
    FontMissing,
    NoticeData,
    find_font,
    font_candidates,
    render_pdf,
    warm_up,
)
from fuquan.platform.documents.fonts import FONT_ENV


def _missing_system_packages() -> list[str]:
    missing = []
    try:
        find_font()
    except FontMissing:
        missing.append("fonts-noto-cjk")
    if not all(shutil.which(tool) for tool in ("pdftotext", "pdftoppm", "pdfinfo", "pdfimages")):
        missing.append("poppler-utils")
    return missing


if _missing := _missing_system_packages():
    hint = f"needs Debian packages: apt-get install {' '.join(_missing)}"
    if os.environ.get("CI"):  # CI installs them (.ci/run): their absence there is a failure, not a skip
        pytest.fail(hint, pytrace=False)
    pytest.skip(hint, allow_module_level=True)

FULL_ID_NUMBER = re.compile(r"\d{17}[\dXx]")

BASE = {
    "tenant_name": "宁夏回族自治区人力资源和社会保障厅",
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
    else:
        fields |= {"accepted_on": date(2026, 11, 3), "decision": "approved", "reasons": ["核定领取期限12个月。"]}
    return NoticeData(**(fields | changes))  # type: ignore[arg-type]


def pdftotext(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


def page_count(pdf: bytes) -> int:
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]


def rasterise(pdf: bytes, directory: Path, resolution: int = 50) -> list[Path]:
    source = directory / "notice.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", str(resolution), source, directory / "page"], check=True)
    return sorted(directory.glob("page-*.png"))


def words_off_the_page(pdf: bytes) -> list[str]:
    """Words whose box leaves the type area's page (A4 = 595 x 842 pt) per ``pdftotext -bbox``."""
    html = subprocess.run(["pdftotext", "-bbox", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    words = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>', html.decode()
    )
    return [text for x0, y0, x1, y1, text in words if float(x0) < 40 or float(x1) > 595 - 40 or float(y1) > 842 - 20]


@pytest.mark.parametrize("kind", list(TITLES))
def test_each_kind_renders_readable_chinese(kind: str, tmp_path: Path) -> None:
    data = notice(kind)
    with capture_logs() as logs:
        pdf = render_pdf(data)

    assert pdf.startswith(b"%PDF")
    text = pdftotext(pdf)
    assert TITLES[kind] in text  # type: ignore[index]
    assert data.receipt_no in text
    assert "张*" in text and "6402**********1234" in text
    assert data.tenant_name in text and data.unit_name in text and "失业保险金申领" in text
    assert "扫码查询办理进度" in text and "K7M2QX" in text
    assert not FULL_ID_NUMBER.search(text)
    # every character was in the font built for the document at the first attempt
    retried = ("document_font_extended", "document_characters_unprintable")
    assert not [entry for entry in logs if entry["event"] in retried]

    pages = rasterise(pdf, tmp_path)
    assert len(pages) == page_count(pdf) >= 1
    assert all(page.stat().st_size > 1000 for page in pages)
    assert words_off_the_page(pdf) == []


def test_kind_specific_wording() -> None:
    assert "准予办理" in pdftotext(render_pdf(notice("result_notice")))
    denied = pdftotext(render_pdf(notice("result_notice", decision="denied")))
    assert "不予办理" in denied and "行政复议" in denied
    assert "行政复议" in pdftotext(render_pdf(notice("refusal_notice")))
    receipt = pdftotext(render_pdf(notice("receipt")))
    assert "5个工作日" in receipt and "2026年11月10日" in receipt
    assert "需补正的材料及要求" in pdftotext(render_pdf(notice("supplement_notice")))


def test_issued_at_is_printed_in_beijing_time() -> None:
    late = notice("receipt", issued_at=datetime(2026, 11, 3, 17, 30, tzinfo=UTC))  # 01:30 next day in Beijing
    assert "2026年11月4日 01:30" in pdftotext(render_pdf(late))


def test_metadata() -> None:
    info = subprocess.run(
        ["pdfinfo", "-"], input=render_pdf(notice("refusal_notice")), capture_output=True, check=True
    ).stdout.decode()
    assert re.search(r"^Title:\s+不予受理通知书 640202001-20261103-0007$", info, re.M)
    assert re.search(r"^Creator:\s+Fuquan 赋权$", info, re.M)
    assert re.search(r"^Page size:.*\(A4\)", info, re.M)


def test_qr_code_encodes_the_progress_url(tmp_path: Path) -> None:
    from PIL import Image

    data = notice("receipt")
    source = tmp_path / "notice.pdf"
    source.write_bytes(render_pdf(data))
    subprocess.run(["pdfimages", "-png", source, tmp_path / "img"], check=True)
    [image_path] = tmp_path.glob("img-*.png")
    image = Image.open(image_path).convert("L")
    matrix = [list(row) for row in segno.make(data.progress_url, error="m", micro=False).matrix]
    step = image.size[0] / len(matrix)
    drawn = [
        [image.getpixel((int((x + 0.5) * step), int((y + 0.5) * step))) < 128 for x in range(len(matrix))]
        for y in range(len(matrix))
    ]
    assert drawn == [[bool(module) for module in row] for row in matrix]


def test_long_content_wraps_and_continues_on_further_pages(tmp_path: Path) -> None:
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
    pdf = render_pdf(data)
    assert page_count(pdf) > 2
    text = pdftotext(pdf)
    assert "第39项" in text and "特此通知" in text and "（续）" in text
    assert words_off_the_page(pdf) == []
    assert len(rasterise(pdf, tmp_path)) == page_count(pdf)


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
    monkeypatch.setenv(FONT_ENV, str(tmp_path / "Custom-Regular.otf"))
    assert font_candidates()[0] == str(tmp_path / "Custom-Regular.otf")
    assert find_font().regular.name == "NotoSansCJK-Regular.ttc"  # the override does not exist: next candidate
    monkeypatch.delenv(FONT_ENV)
    files = find_font()
    assert files.bold is not None and files.bold.name == "NotoSansCJK-Bold.ttc"


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
