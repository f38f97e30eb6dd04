"""The notice as a Word document laid out as GB/T 9704-2012 (党政机关公文格式), pure.

A4, margins 37 mm top and 28 mm on the binding side, a text area of 156 × 225 mm holding
22 lines of 28 characters of 3号 (16 pt) 仿宋_GB2312; the issuing office in red 小标宋 over a
red rule; the title in 2号 小标宋; level-1 headings in 黑体, level-2 in 楷体_GB2312; page
numbers "— 1 —" in 4号 宋体, odd pages right and even pages left; the annex on a new page,
landscape when its table is wide, its header row repeated on every page.
"""

import io
import math
import re
from xml.sax.saxutils import escape

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt, RGBColor

from app.stats import notice
from app.stats.notice import NoticeSetup
from app.stats.schemas import StatsOut
from app.stats.text import clean_text

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
LEVEL1_FONT = "黑体"
LEVEL2_FONT = "楷体_GB2312"
PAGE_NUMBER_FONT = "宋体"
SIZE_2 = Pt(22)  # 2号
SIZE_3 = Pt(16)  # 3号
SIZE_4 = Pt(14)  # 4号
RED = RGBColor(0xFF, 0x00, 0x00)
# 225 mm over 22 lines.
LINE_PITCH = Pt(28.9)
TABLE_SIZE = Pt(9)  # 小五: twenty columns fit a landscape page with their figures whole
EM = int(TABLE_SIZE.pt * 20)  # twips of one Chinese character at the table's size
CELL_PADDING = 80 + 20  # the cell's left and right margins, and room for borders and rounding
# Runs of narrow characters never break inside ("62.5%", "2022"); wide characters may break
# between any two, as Chinese text does.
_NARROW_RUN = re.compile(r"[!-~]+")
# A header's note in brackets ("（工作日）") stays on a line of its own.
_BRACKETED = re.compile(r"（[^（）]*）")


def _font(run, name: str, size: Pt, *, bold: bool = False, color: RGBColor | None = None) -> None:
    run.font.name = name
    run.font.size = size
    run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    for attribute in ("w:eastAsia", "w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attribute), name)


def _paragraph(
    document,
    text: str = "",
    *,
    font: str = BODY_FONT,
    size: Pt = SIZE_3,
    align=WD_ALIGN_PARAGRAPH.JUSTIFY,
    indent: bool = False,
    color: RGBColor | None = None,
    line_spacing=LINE_PITCH,
):
    paragraph = document.add_paragraph()
    paragraph.alignment = align
    layout = paragraph.paragraph_format
    layout.space_before = layout.space_after = Pt(0)
    if line_spacing is not None:
        layout.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        layout.line_spacing = line_spacing
    if indent:
        layout.first_line_indent = Pt(size.pt * 2)
    if text:
        _font(paragraph.add_run(text), font, size, color=color)
    return paragraph


def _red_rule(paragraph) -> None:
    borders = parse_xml(
        f'<w:pBdr {nsdecls("w")}><w:bottom w:val="single" w:sz="18" w:space="6" '
        'w:color="FF0000"/></w:pBdr>'
    )
    paragraph._p.get_or_add_pPr().append(borders)


def _page_number_footer(footer, align) -> None:
    paragraph = footer.paragraphs[0]
    paragraph.alignment = align
    layout = paragraph.paragraph_format
    # About one character in from the text area's edge.
    if align == WD_ALIGN_PARAGRAPH.RIGHT:
        layout.right_indent = SIZE_4
    else:
        layout.left_indent = SIZE_4
    _font(paragraph.add_run("— "), PAGE_NUMBER_FONT, SIZE_4)
    field = parse_xml(
        f'<w:fldSimple {nsdecls("w")} w:instr=" PAGE "><w:r><w:rPr>'
        f'<w:rFonts w:ascii="{PAGE_NUMBER_FONT}" w:hAnsi="{PAGE_NUMBER_FONT}" '
        f'w:eastAsia="{PAGE_NUMBER_FONT}"/><w:sz w:val="28"/></w:rPr><w:t>1</w:t></w:r>'
        "</w:fldSimple>"
    )
    paragraph._p.append(field)
    _font(paragraph.add_run(" —"), PAGE_NUMBER_FONT, SIZE_4)


def _setup_section(section, *, landscape: bool) -> None:
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Mm(297), Mm(210)
        section.top_margin, section.bottom_margin = Mm(28), Mm(26)
        section.left_margin, section.right_margin = Mm(37), Mm(35)
    else:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.top_margin, section.bottom_margin = Mm(37), Mm(35)
        section.left_margin, section.right_margin = Mm(28), Mm(26)
    # The page number sits 7 mm below the text area.
    section.footer_distance = section.bottom_margin - Mm(7) - Mm(5)
    section.header_distance = Mm(15)


def _header_xml(header: str, width: int) -> str:
    """A header cell, broken before its bracketed note when the whole does not fit a line."""
    if (width - CELL_PADDING) / EM < text_em(header):
        header = _BRACKETED.sub(lambda note: "\n" + note.group(0), header).lstrip("\n")
    return _cell_xml(header, width=width, bold=True, align="center")


def _cell_xml(text: str, *, width: int, bold: bool, align: str) -> str:
    weight = "<w:b/>" if bold else ""
    size = int(TABLE_SIZE.pt * 2)
    lines = "<w:br/>".join(
        f'<w:t xml:space="preserve">{escape(line)}</w:t>' for line in text.split("\n")
    )
    return (
        f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/><w:vAlign w:val="center"/></w:tcPr>'
        f'<w:p><w:pPr><w:spacing w:before="0" w:after="0" w:line="240" w:lineRule="auto"/>'
        f'<w:jc w:val="{align}"/></w:pPr><w:r><w:rPr>'
        f'<w:rFonts w:ascii="{BODY_FONT}" w:hAnsi="{BODY_FONT}" w:eastAsia="{BODY_FONT}"/>'
        f'{weight}<w:sz w:val="{size}"/></w:rPr>'
        f"{lines}</w:r></w:p></w:tc>"
    )


def text_em(text: str) -> float:
    """Width of a text in Chinese characters (em) of the table's font. Narrow characters are
    taken as fallback fonts draw them in bold (0.7 em, "%" 1.05), wider than 仿宋's half em,
    so that a figure of the bold 合计 row stays whole whatever font the reader has."""
    narrow = sum(len(run) for run in _NARROW_RUN.findall(text))
    return len(text) - narrow + 0.7 * narrow + 0.35 * text.count("%")


def _longest_unbreakable(text: str) -> float:
    runs = [text_em(run) for run in _NARROW_RUN.findall(text)]
    return max([*runs, 1.0 if len(text) > sum(map(len, _NARROW_RUN.findall(text))) else 0.0])


def _header_em(header: str) -> tuple[float, float]:
    """(narrowest, comfortable) width of a header: at most four lines; two lines, or one when
    it is three characters or fewer ("办结率"), reads well."""
    whole = text_em(header)
    bracketed = max([text_em(note) for note in _BRACKETED.findall(header)], default=0)
    narrowest = max(_longest_unbreakable(header), bracketed, min(whole, 2), whole / 4)
    comfortable = max(narrowest, whole if whole <= 3 else whole / 2)
    return math.ceil(narrowest), math.ceil(comfortable)


def column_widths(columns, rows, text_width_twips: int) -> list[int]:
    """Twips per column: every figure and short word (合计, 62.5%) on one line, headers broken
    at a character boundary into two lines where that fits, the text columns (单位, 存在问题)
    given what is left in proportion to their longest text."""
    longest = [0.0] * len(columns)
    for row in rows:
        for index, text in enumerate(row):
            longest[index] = max(longest[index], text_em(text))
    narrowest, comfortable = [], []
    for index, column in enumerate(columns):
        header_narrowest, header_comfortable = _header_em(column.header)
        if column.wrap:
            # A name or a sentence wraps; a few characters per line at the very least.
            narrowest.append(max(header_narrowest, 4))
            comfortable.append(max(narrowest[-1], header_comfortable, min(longest[index], 16)))
        else:
            narrowest.append(max(header_narrowest, longest[index]))
            comfortable.append(max(header_comfortable, longest[index]))
    available = text_width_twips / EM - CELL_PADDING * len(columns) / EM
    spare = available - sum(comfortable)
    if spare >= 0:
        wrapped = [index for index, column in enumerate(columns) if column.wrap] or list(
            range(len(columns))
        )
        weight = sum(comfortable[index] for index in wrapped)
        ems = [
            width + (spare * width / weight if index in wrapped else 0)
            for index, width in enumerate(comfortable)
        ]
    else:
        # Between the narrowest and the comfortable widths, in proportion to what each gives up.
        give = sum(comfortable) - sum(narrowest)
        share = max(available - sum(narrowest), 0) / give if give else 0
        ems = [low + (high - low) * share for low, high in zip(narrowest, comfortable, strict=True)]
        # A header broken into even lines (受理/留言, not 上级单/位); the text columns take
        # what that frees.
        for index, column in enumerate(columns):
            if not column.wrap:
                ems[index] = max(narrowest[index], _even_width(column.header, ems[index]))
        wrapped = [index for index, column in enumerate(columns) if column.wrap]
        freed = available - sum(ems)
        if wrapped and freed > 0:
            weight = sum(ems[index] for index in wrapped)
            for index in wrapped:
                ems[index] += freed * ems[index] / weight
    return [int(em * EM) + CELL_PADDING for em in ems]


def _even_width(header: str, at_most: float) -> float:
    """The widest width up to at_most at which the header's lines come out even: a header of
    n characters on k lines takes ceil(n / k)."""
    whole = math.ceil(text_em(header))
    fitting = [math.ceil(whole / lines) for lines in range(1, whole + 1)]
    return max([width for width in fitting if width <= at_most], default=at_most)


def annex_table_xml(stats: StatsOut, text_width_twips: int) -> str:
    """The annex as one w:tbl, written as text: python-docx's add_row takes seconds for the
    15,000 cells of a national annex, a string join a few milliseconds."""
    columns = notice.annex_columns(stats)
    annex_rows = [
        (row[0] == "合计", ["—" if value is None else str(value) for value in row])
        for row in notice.iter_annex_rows(stats, as_text=True)
    ]
    widths = column_widths(columns, [texts for _, texts in annex_rows], text_width_twips)
    grid = "".join(f'<w:gridCol w:w="{width}"/>' for width in widths)
    borders = "".join(
        f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
        for side in ("top", "left", "bottom", "right", "insideH", "insideV")
    )
    rows = [
        # tblHeader repeats this row at the top of every page; cantSplit keeps rows whole.
        "<w:tr><w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>"
        + "".join(
            _header_xml(column.header, width) for column, width in zip(columns, widths, strict=True)
        )
        + "</w:tr>"
    ]
    for bold, texts in annex_rows:
        cells = []
        for index, (text, width) in enumerate(zip(texts, widths, strict=True)):
            align = "left" if columns[index].wrap else "center"
            cells.append(_cell_xml(text, width=width, bold=bold, align=align))
        rows.append("<w:tr><w:trPr><w:cantSplit/></w:trPr>" + "".join(cells) + "</w:tr>")
    return (
        f'<w:tbl {nsdecls("w")}><w:tblPr><w:tblW w:w="{sum(widths)}" w:type="dxa"/>'
        f'<w:jc w:val="center"/><w:tblBorders>{borders}</w:tblBorders>'
        '<w:tblLayout w:type="fixed"/>'
        '<w:tblCellMar><w:left w:w="40" w:type="dxa"/><w:right w:w="40" w:type="dxa"/>'
        "</w:tblCellMar></w:tblPr>"
        f"<w:tblGrid>{grid}</w:tblGrid>{''.join(rows)}</w:tbl>"
    )


def notice_docx(stats: StatsOut, setup: NoticeSetup) -> bytes:
    """The notice as a .docx an office can edit, sign and file."""
    document = Document()
    document.settings.odd_and_even_pages_header_footer = True
    section = document.sections[0]
    _setup_section(section, landscape=False)
    _page_number_footer(section.footer, WD_ALIGN_PARAGRAPH.RIGHT)
    _page_number_footer(section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)
    # The default paragraph is the body's: 3号仿宋.
    normal = document.styles["Normal"]
    _font(normal, BODY_FONT, SIZE_3)

    issuer = notice.issuer_of(stats, setup)
    _paragraph(
        document,
        issuer,
        font=TITLE_FONT,
        size=Pt(26),
        align=WD_ALIGN_PARAGRAPH.CENTER,
        color=RED,
        line_spacing=Pt(40),
    )
    number = _paragraph(
        document, clean_text(setup.document_number), align=WD_ALIGN_PARAGRAPH.CENTER
    )
    _red_rule(number)
    _paragraph(document)
    _paragraph(
        document,
        notice.title(stats, setup),
        font=TITLE_FONT,
        size=SIZE_2,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        line_spacing=Pt(35),
    )
    _paragraph(document)
    _paragraph(document, clean_text(setup.recipients))
    _paragraph(document, notice.opening(stats, setup), indent=True)
    _paragraph(document, "一、总体情况", font=LEVEL1_FONT, indent=True)
    _paragraph(document, notice.overview(stats, setup), indent=True)
    _paragraph(document, "二、存在问题", font=LEVEL1_FONT, indent=True)
    for problem in notice.problem_parts(stats, setup):
        paragraph = _paragraph(document, indent=True)
        _font(paragraph.add_run(problem.heading), LEVEL2_FONT, SIZE_3)
        _font(paragraph.add_run(problem.text), BODY_FONT, SIZE_3)
    _paragraph(document, "三、工作要求", font=LEVEL1_FONT, indent=True)
    for text in notice.requirements(stats, setup):
        _paragraph(document, text, indent=True)
    _paragraph(document)
    annex = _paragraph(document, f"附件：{notice.annex_title(stats)}", indent=True)
    # A wrapped annex title lines up under its first character, after 附件：.
    annex.paragraph_format.left_indent = Pt(16 * 5)
    annex.paragraph_format.first_line_indent = Pt(-16 * 3)
    _paragraph(document)
    _paragraph(document)
    # The signature and the date end about four characters from the right margin.
    for text in (issuer, notice.date_text(setup.issued_on or stats.as_of.date())):
        paragraph = _paragraph(document, text, align=WD_ALIGN_PARAGRAPH.RIGHT)
        paragraph.paragraph_format.right_indent = Pt(16 * 4)
    if contact := notice.contact_line(setup):
        _paragraph(document, contact, indent=True)

    columns = notice.annex_columns(stats)
    landscape = sum(column.width for column in columns) > 100
    annex_section = document.add_section(WD_SECTION.NEW_PAGE)
    _setup_section(annex_section, landscape=landscape)
    _paragraph(document, "附件1", font=LEVEL1_FONT, align=WD_ALIGN_PARAGRAPH.LEFT)
    _paragraph(
        document,
        notice.annex_title(stats),
        font=TITLE_FONT,
        size=SIZE_2,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        line_spacing=Pt(35),
    )
    scope = clean_text(stats.scope_unit_name or "全部单位")
    _paragraph(
        document,
        f"范围：{scope}　{notice.heading_line(stats)[1:-1]}",
        size=Pt(12),
        align=WD_ALIGN_PARAGRAPH.CENTER,
        line_spacing=Pt(20),
    )
    width = annex_section.page_width - annex_section.left_margin - annex_section.right_margin
    table = parse_xml(annex_table_xml(stats, int(width) // 635))  # EMU to twips
    body = document.element.body
    # Before the last section's properties, which close the body.
    body.insert(len(body) - 1, table)
    _paragraph(document, line_spacing=Pt(2))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
