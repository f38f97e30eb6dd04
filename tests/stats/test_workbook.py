"""The notice workbook's rows written as XML (issue #12) are the workbook XlsxWriter's per-cell
calls write: same cells, styles, heights and print setup, read back with openpyxl."""

import io
import zipfile

import openpyxl
import pytest
import xlsxwriter
from openpyxl.utils import get_column_letter

from app.stats.exports import notice_xlsx
from app.stats.notice import NoticeSetup, annex_rows
from app.stats.schemas import Figures
from app.stats.tables import RowsAsXmlWorksheet, number_cell, string_cell
from tests.stats.figures import answered, made_up_stats
from tests.stats.per_cell import notice_xlsx_per_cell

SETUP = NoticeSetup(issuer="丙市人民政府办公室", document_number="丙政办〔2019〕5号")

# Names an export meets: markup, quotes, Excel's own _xHHHH_ escapes, a control character
# stored before names were validated, leading and trailing spaces (kept only with
# xml:space="preserve"), a newline, characters beyond the BMP, a formula, CDATA's end, a name
# long enough to wrap over lines, and one longer than a cell holds (cut at 32,767 UTF-16 units,
# an emoji counting two).
AWKWARD_NAMES = [
    "丙市<&>局",
    "A & B \"quoted\" 'single' <tag/>",
    "_x0041_局",
    "甲\x0b乙局",
    "  前后空格局　",
    "换行\n单位",
    "𠮷野家😀局",
    "=SUM(A1:A9)",
    "]]>局",
    "丙市" + "很长的名称" * 30,
    "😀" * 17_000,
]


def awkward_stats(count: int = 300):
    """A few hundred units: the awkward names, figures that give each number format (whole,
    one and two decimals, rates shown as "—"), flagged units (wrapped flags, taller rows) and
    units without any report."""
    units = []
    for number in range(count):
        name = AWKWARD_NAMES[number] if number < len(AWKWARD_NAMES) else f"丙市第{number:03d}号局"
        kind = number % 5
        if kind == 0:
            figures = Figures.from_counts({})  # nothing received: every rate is "—"
        elif kind == 1:
            figures = answered(3 + number % 7, late=number % 3)
        elif kind == 2:  # a low completion rate, slow handling: flagged, two decimals
            figures = Figures.from_counts(
                {
                    "received": 2000,
                    "resolved": 1399,
                    "first_replies_due": 2000,
                    "first_replies_in_time": 1990,
                    "late_first_replies": 10,
                    "handling_workdays_total": 1399 * 15 + 7,  # 15.005: "15.01"
                }
            )
        else:
            figures = answered(8 + number % 11, late=number % 4, declined=number % 2)
        units.append((name, figures))
    return made_up_stats(units)


def cell_description(cell) -> tuple:
    font, fill, border, alignment = cell.font, cell.fill, cell.border, cell.alignment
    return (
        cell.value,
        cell.data_type,
        cell.number_format,
        (font.b, font.i, font.sz, font.name, font.color.rgb if font.color else None),
        (fill.patternType, fill.fgColor.rgb, fill.bgColor.rgb),
        tuple(side.style for side in (border.left, border.right, border.top, border.bottom)),
        (alignment.horizontal, alignment.vertical, alignment.wrap_text, alignment.indent),
    )


def sheet_description(sheet) -> dict:
    """Everything of a sheet a reader sees or prints, as comparable values."""
    setup, margins = sheet.page_setup, sheet.page_margins
    return {
        "dimensions": sheet.dimensions,
        "cells": [
            [cell_description(cell) for cell in row]
            for row in sheet.iter_rows(min_row=1, max_row=sheet.max_row)
        ],
        "row heights": [
            (sheet.row_dimensions[row].height, sheet.row_dimensions[row].customHeight)
            for row in range(1, sheet.max_row + 2)
        ],
        "column widths": [
            sheet.column_dimensions[get_column_letter(column)].width
            for column in range(1, sheet.max_column + 2)
        ],
        "merged": sorted(str(cells) for cells in sheet.merged_cells.ranges),
        "freeze panes": sheet.freeze_panes,
        "autofilter": sheet.auto_filter.ref,
        "print titles": (sheet.print_title_rows, sheet.print_title_cols),
        "print area": sheet.print_area,
        "page setup": (
            setup.orientation,
            setup.paperSize,
            setup.fitToWidth,
            setup.fitToHeight,
            sheet.sheet_properties.pageSetUpPr.fitToPage,
            sheet.print_options.horizontalCentered,
        ),
        "margins": (
            margins.left,
            margins.right,
            margins.top,
            margins.bottom,
            margins.header,
            margins.footer,
        ),
        "footer": (sheet.oddFooter.center.text, sheet.oddHeader.center.text),
    }


@pytest.fixture(scope="module")
def workbooks() -> tuple[bytes, bytes]:
    stats = awkward_stats()
    with pytest.MonkeyPatch.context() as monkeypatch:
        return notice_xlsx(stats, SETUP), notice_xlsx_per_cell(monkeypatch, stats, SETUP)


def test_the_served_workbook_is_the_one_written_cell_by_cell(workbooks) -> None:
    served, per_cell = (openpyxl.load_workbook(io.BytesIO(content)) for content in workbooks)
    assert served.sheetnames == per_cell.sheetnames == ["各单位统计", "通报正文", "图表"]
    for name in served.sheetnames:
        expected = sheet_description(per_cell[name])
        actual = sheet_description(served[name])
        for part, value in expected.items():
            assert actual[part] == value, (name, part)
    annex = served["各单位统计"]
    assert (
        annex.max_row == 4 + 1 + 300 + 1 and annex["A306"].value == "合计"
    )  # the city office first
    # The chart reads the chart sheet's cells: its ranges and drawing are XlsxWriter's, as before.
    with (
        zipfile.ZipFile(io.BytesIO(workbooks[0])) as got,
        zipfile.ZipFile(io.BytesIO(workbooks[1])) as want,
    ):
        assert got.testzip() is None
        assert sorted(got.namelist()) == sorted(want.namelist())
        for member in ("xl/charts/chart1.xml", "xl/drawings/drawing1.xml", "xl/workbook.xml"):
            assert got.read(member) == want.read(member), member


def test_awkward_names_and_every_figure_read_back_as_written(workbooks) -> None:
    stats = awkward_stats()
    sheet = openpyxl.load_workbook(io.BytesIO(workbooks[0]))["各单位统计"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=5)]
    as_stored = {
        # openpyxl shows Excel's escape as stored; Excel and LibreOffice show "_x0041_局"
        # (tests/stats/test_notice_render.py prints it).
        "_x0041_局": "_x005F_x0041_局",
        # 32,766 UTF-16 units: a 32,768th would split an emoji.
        "😀" * 17_000: "😀" * 16_383,
    }
    expected = [
        ["—" if value is None else as_stored.get(value, value) for value in row]
        for row in annex_rows(stats, as_text=False)
    ]
    assert rows == expected
    names = [row[1] for row in rows]
    assert names[1] == "丙市<&>局"
    assert names[2] == "A & B \"quoted\" 'single' <tag/>"
    assert names[4] == "甲乙局"
    assert names[5] == "  前后空格局　"
    with zipfile.ZipFile(io.BytesIO(workbooks[0])) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    # Excel drops leading and trailing spaces not marked as kept (openpyxl keeps them anyway).
    assert '<t xml:space="preserve">  前后空格局　</t>' in xml
    assert names[6] == "换行\n单位"
    assert names[8] == "=SUM(A1:A9)" and sheet["B13"].data_type == "s"  # text, not a formula
    assert names[9] == "]]>局"
    assert names[11] == "😀" * 16_383
    assert sheet["I8"].number_format == "0.00%" and sheet["I8"].value == 0.6995
    assert sheet["L8"].number_format == "0.00" and sheet["L8"].value == 15.01
    assert sheet["I5"].value == "—" and sheet["I5"].alignment.horizontal == "center"
    assert sheet.row_dimensions[18].height > sheet.row_dimensions[19].height == 18  # flags wrap


def test_xml_rows_follow_and_precede_rows_xlsxwriter_writes(tmp_path) -> None:
    path = tmp_path / "rows.xlsx"
    workbook = xlsxwriter.Workbook(path, {"constant_memory": True})
    bold = workbook.add_format({"bold": True})
    sheet = workbook.add_worksheet("rows", RowsAsXmlWorksheet)
    sheet.write_string(0, 0, "first", bold)
    sheet.set_row(0, 30)
    cells = string_cell("A2", sheet.style(bold), "x<&>y") + number_cell("C2", "", 1.5)
    sheet.write_xml_row(1, cells, 0, 2, height=40)
    sheet.write_xml_row(2, number_cell("B3", "", 7), 1, 1)
    with pytest.raises(ValueError):
        sheet.write_xml_row(2, number_cell("B3", "", 8), 1, 1)  # rows go in order
    with pytest.raises(ValueError):
        number_cell("A9", "", float("nan"))
    sheet.write_number(3, 3, 4)
    sheet.set_row(5, 40)
    with pytest.raises(ValueError):
        sheet.write_xml_row(5, number_cell("A6", "", 8), 0, 0)  # its height is set_row()'s
    sheet.write_string(5, 0, "last")
    workbook.close()
    read = openpyxl.load_workbook(path)["rows"]
    assert read.dimensions == "A1:D6"
    assert [[cell.value for cell in row] for row in read.iter_rows()] == [
        ["first", None, None, None],
        ["x<&>y", None, 1.5, None],
        [None, 7, None, None],
        [None, None, None, 4],
        [None, None, None, None],
        ["last", None, None, None],
    ]
    assert read["A1"].font.b and read["A2"].font.b and not read["C2"].font.b
    assert read.row_dimensions[1].height == 30
    # Whole pixels, as set_row() makes them: 40 points are 53⅓ pixels, 53 are 39.75 points.
    assert read.row_dimensions[2].height == read.row_dimensions[6].height == 39.75
    assert read.row_dimensions[3].height is None


def test_xml_rows_need_constant_memory(tmp_path) -> None:
    workbook = xlsxwriter.Workbook(tmp_path / "normal.xlsx")
    sheet = workbook.add_worksheet("rows", RowsAsXmlWorksheet)
    with pytest.raises(RuntimeError):
        sheet.write_xml_row(0, number_cell("A1", "", 1), 0, 0)
    workbook.close()
