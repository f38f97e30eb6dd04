"""The notice as offices print it: DOCX and XLSX rendered by LibreOffice, read back as PDF.

Each fixture is converted once (module scope): a conversion takes seconds.
"""

import io
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

import docx
import pytest

from app.stats.document import BODY_FONT, LEVEL1_FONT, LEVEL2_FONT, TITLE_FONT, notice_docx
from app.stats.exports import notice_xlsx
from app.stats.notice import NoticeSetup, annex_title, problems, title
from app.stats.pdf import convert_to_pdf, soffice_path
from app.stats.schemas import Figures
from app.stats.workbook import text_paragraphs
from tests.stats.figures import answered, made_up_stats

# CI installs LibreOffice and poppler (.ci/run): there their absence fails instead of skipping.
IN_CI = bool(os.environ.get("ZHAOCUO_CI"))
needs_libreoffice = pytest.mark.skipif(
    not IN_CI and (soffice_path() is None or shutil.which("pdftotext") is None),
    reason="needs LibreOffice (soffice) and poppler-utils (pdftotext): "
    "apt-get install libreoffice-writer-nogui libreoffice-calc-nogui poppler-utils",
)

SETUP = NoticeSetup(
    issuer="丙市人民政府办公室",
    document_number="丙政办〔2019〕5号",
    recipients="各县（市）区政府，园区管委会、政府各部门：",
    contact_name="丛瑶",
    contact_phone="2998538",
    requirements=[
        "各单位要高度重视网民留言办理工作。",
        "请于5月24日前将整改情况书面报市政府办公室。",
    ],
)


@dataclass
class Rendered:
    pages: list[str]  # the text of each page

    @property
    def text(self) -> str:
        return "".join(self.pages)


def squeezed(text: str) -> str:
    """Text without the line breaks and spaces a page layout puts into it."""
    return re.sub(r"\s+", "", text)


def render(content: bytes, suffix: str, tmp_path_factory) -> Rendered:
    folder = tmp_path_factory.mktemp("pdf")
    path = folder / "notice.pdf"
    path.write_bytes(convert_to_pdf(content, suffix))
    text = subprocess.run(
        ["pdftotext", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    # pdftotext ends each page with a form feed.
    return Rendered(pages=text.split("\f")[:-1])


def two_units():
    late = Figures.from_counts(
        {
            "received": 10,
            "declined": 2,
            "resolved": 5,
            "first_replies_due": 8,
            "first_replies_in_time": 6,
            "late_first_replies": 2,
            "handling_workdays_total": 80,
        }
    )
    return made_up_stats([("丙市教育局", late), ("丙市民政局", answered(4, late=1))])


# A name with markup and with what looks like one of Excel's _xHHHH_ escapes: both print as
# they are (the workbook writes its rows as XML itself).
AWKWARD_NAME = "丙市第500号<&>_x0041_单位"


def many_units(count: int = 957):
    return made_up_stats(
        [
            (
                AWKWARD_NAME if number == 500 else f"丙市第{number:03d}号政府网站主办单位",
                answered(5, late=number % 3),
            )
            for number in range(count)
        ]
    )


@pytest.fixture(scope="module")
def two_docx(tmp_path_factory) -> Rendered:
    return render(notice_docx(two_units(), SETUP), ".docx", tmp_path_factory)


@pytest.fixture(scope="module")
def two_xlsx(tmp_path_factory) -> Rendered:
    return render(notice_xlsx(two_units(), SETUP), ".xlsx", tmp_path_factory)


@pytest.fixture(scope="module")
def many_docx(tmp_path_factory) -> Rendered:
    return render(notice_docx(many_units(), SETUP), ".docx", tmp_path_factory)


@pytest.fixture(scope="module")
def many_xlsx(tmp_path_factory) -> Rendered:
    return render(notice_xlsx(many_units(), SETUP), ".xlsx", tmp_path_factory)


@needs_libreoffice
def test_the_document_prints_every_paragraph_whole(two_docx: Rendered) -> None:
    stats = two_units()
    printed = squeezed(two_docx.text)
    assert squeezed(title(stats, SETUP)) in printed
    for _, paragraph in text_paragraphs(stats, SETUP):
        assert squeezed(paragraph) in printed, paragraph
    assert "现将有关情况通报如下：" in printed
    assert "（联系人：丛瑶联系电话：2998538）" in printed
    assert "—1—" in squeezed(two_docx.pages[0])


@needs_libreoffice
def test_a_two_unit_annex_is_one_page_of_its_own(two_docx: Rendered, two_xlsx: Rendered) -> None:
    annex = squeezed(two_docx.pages[-1])
    assert annex.startswith("附件1") and squeezed(annex_title(two_units())) in annex
    assert "丙市教育局" in annex and "丙市民政局" in annex and "合计" in annex
    assert "现将有关情况" not in annex  # the annex starts a new page
    # The workbook: the whole annex sheet on its first page, its columns not split.
    first = squeezed(two_xlsx.pages[0])
    for text in ("附件1", "序号", "存在问题", "丙市教育局", "丙市民政局", "合计"):
        assert text in first
    assert "现将有关情况" not in first


@needs_libreoffice
def test_the_annex_table_keeps_short_words_and_figures_on_one_line(
    two_docx: Rendered, many_docx: Rendered
) -> None:
    # Twenty columns on a landscape page: pdftotext gives a cell's lines apart, so a figure or
    # word broken across lines ("62.5" over "%", "合" over "计") would not be one of its words.
    words = set(two_docx.pages[-1].split())
    for whole in ("序号", "合计", "62.5%", "100%", "75%", "9.3", "16", "（工作日）"):
        assert whole in words, whole
    totals = many_units().totals
    last_page = set(many_docx.pages[-1].split())
    for whole in ("合计", str(totals.received), str(totals.resolved)):
        assert whole in last_page, whole


@needs_libreoffice
def test_the_text_sheet_prints_whole(two_xlsx: Rendered) -> None:
    stats = two_units()
    printed = squeezed(two_xlsx.text)
    assert squeezed(title(stats, SETUP)) in printed
    for paragraph in problems(stats, SETUP):
        assert squeezed(paragraph) in printed, paragraph


@needs_libreoffice
def test_a_957_unit_annex_has_its_header_on_every_page(
    many_docx: Rendered, many_xlsx: Rendered
) -> None:
    pages = [squeezed(page) for page in many_docx.pages]
    annex_start = next(index for index, page in enumerate(pages) if page.startswith("附件1"))
    # Every page of the annex holds the header row (the body before it names units too).
    rows_pages = pages[annex_start:]
    assert len(rows_pages) > 10
    assert all("序号" in page and "存在问题" in page for page in rows_pages)
    assert "丙市第956号" in "".join(rows_pages) and "合计" in rows_pages[-1]
    sheets = [squeezed(page) for page in many_xlsx.pages]
    # The annex sheet prints first, down to its 合计 row; the text and chart sheets follow.
    annex_end = next(index for index, page in enumerate(sheets) if "合计" in page)
    sheet_pages = sheets[: annex_end + 1]
    # Units on every page; the 合计 row may be all the last page holds.
    assert all(re.search(r"丙市第\d{3}号", page) for page in sheet_pages[:-1])
    assert len(sheet_pages) > 10
    # The header on every page, and one page wide: no page holds only some of the columns.
    assert [page[-80:] for page in sheet_pages if "存在问题" not in page] == []
    assert all("存在问题" in page for page in sheet_pages)
    assert AWKWARD_NAME in "".join(sheet_pages)


def test_the_document_uses_the_standard_fonts_and_sizes() -> None:
    document = docx.Document(io.BytesIO(notice_docx(two_units(), SETUP)))

    def fonts(text: str) -> set[tuple[str, float]]:
        for paragraph in document.paragraphs:
            if paragraph.text.startswith(text):
                return {
                    (run._element.rPr.rFonts.get(docx.oxml.ns.qn("w:eastAsia")), run.font.size.pt)
                    for run in paragraph.runs
                }
        raise AssertionError(f"no paragraph starts with {text}")

    assert fonts("丙市人民政府办公室关于") == {(TITLE_FONT, 22.0)}
    assert fonts("一、总体情况") == {(LEVEL1_FONT, 16.0)}
    assert fonts("2019年4月，") == {(BODY_FONT, 16.0)}
    assert fonts("（一）") == {(LEVEL2_FONT, 16.0), (BODY_FONT, 16.0)}
    assert fonts("各县（市）区政府") == {(BODY_FONT, 16.0)}
    first = document.sections[0]
    assert (round(first.top_margin.mm), round(first.left_margin.mm)) == (37, 28)
    assert round(first.page_width.mm - first.left_margin.mm - first.right_margin.mm) == 156
    assert round(first.page_height.mm - first.top_margin.mm - first.bottom_margin.mm) == 225
    annex = document.sections[-1]
    assert annex.page_width > annex.page_height  # landscape for the wide table
    header = document.tables[0].rows[0]._tr
    assert header.trPr.find(docx.oxml.ns.qn("w:tblHeader")) is not None
