"""The notice as a workbook (XlsxWriter, constant memory), pure but for a temporary file:
the annex table laid out to print, the notice text, and a chart of the rates.

XlsxWriter writes each row as it comes (`constant_memory`), in memory that does not grow with
the units. The 10,000 rows of the annex and of the chart sheet are given to it as XML
(`RowsAsXmlWorksheet`), built from per-column styles: XlsxWriter's per-cell calls alone took
0.67 s for the annex's 200,000 cells, more than its 0.5 s target (issue #12); everything else
(titles, header, merged cells, widths, print setup, filter, chart, the text sheet) is still
XlsxWriter's. openpyxl reads the files in the tests, which compare them with the per-cell path
(tests/stats/per_cell.py).
"""

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from app.stats import notice
from app.stats.notice import NoticeSetup
from app.stats.schemas import StatsOut
from app.stats.tables import (
    A4,
    HEADER_COLOR,
    RowsAsXmlWorksheet,
    blank_cell,
    clean_text,
    number_cell,
    string_cell,
    wrapped_lines,
)

LINE_HEIGHT = 15  # points per line of 11-point text
TEXT_WIDTH = 80  # characters of the text sheet's one column: it prints whole on portrait A4
TITLE_ROWS = 3  # 附件1, the table's title, what it covers
CHART_SHEET = "图表"
TEXT_SHEET = "通报正文"


def _page_setup(worksheet, *, landscape: bool) -> None:
    if landscape:
        worksheet.set_landscape()
    else:
        worksheet.set_portrait()
    worksheet.set_paper(A4)
    worksheet.fit_to_pages(1, 0)  # one page wide, as many pages down as it takes
    worksheet.center_horizontally()
    worksheet.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.7)
    worksheet.set_footer("&C第 &P 页，共 &N 页")


def write_annex_sheet(workbook, stats: StatsOut) -> None:
    columns = notice.annex_columns(stats)
    last_column = len(columns) - 1
    worksheet = workbook.add_worksheet(notice.ANNEX_SHEET, RowsAsXmlWorksheet)
    _page_setup(worksheet, landscape=True)
    header_row = TITLE_ROWS
    worksheet.repeat_rows(header_row)
    worksheet.freeze_panes(header_row + 1, 0)
    for index, column in enumerate(columns):
        worksheet.set_column(index, index, column.width)

    label = workbook.add_format({"bold": True, "font_size": 14})
    heading = workbook.add_format(
        {"bold": True, "font_size": 18, "align": "center", "valign": "vcenter"}
    )
    covers = workbook.add_format({"align": "center", "valign": "vcenter", "text_wrap": True})
    header = workbook.add_format(
        {
            "bold": True,
            "bg_color": HEADER_COLOR,
            "border": 1,
            "align": "center",
            "valign": "vcenter",
            "text_wrap": True,
        }
    )
    formats: dict[tuple, object] = {}

    def cell_format(wrap: bool, bold: bool, number_format: str | None, align: str | None):
        key = (wrap, bold, number_format, align)
        if key not in formats:
            spec = {"border": 1, "valign": "vcenter", "bold": bold, "text_wrap": wrap}
            if number_format:
                spec["num_format"] = number_format
            if align:
                spec["align"] = align
            formats[key] = workbook.add_format(spec)
        return formats[key]

    worksheet.write_string(0, 0, "附件1", label)
    worksheet.set_row(1, 30)
    worksheet.merge_range(1, 0, 1, last_column, notice.annex_title(stats), heading)
    scope = clean_text(stats.scope_unit_name or "全部单位")
    worksheet.set_row(2, 20)
    worksheet.merge_range(
        2, 0, 2, last_column, f"范围：{scope}　{notice.heading_line(stats)[1:-1]}", covers
    )
    worksheet.set_row(header_row, 45)
    for index, column in enumerate(columns):
        worksheet.write_string(header_row, index, column.header, header)

    row_number = _write_annex_rows(worksheet, columns, header_row, cell_format, stats)
    # The filter covers the units, not the total under them.
    worksheet.autofilter(header_row, 0, row_number - 1, last_column)
    worksheet.print_area(0, 0, row_number, last_column)


class _RowFormats:
    """The formats of one kind of row (the units', or the bold total's), looked up by column
    once instead of per cell: 200,000 cells go through them."""

    def __init__(self, columns, bold: bool, cell_format) -> None:
        self.text = [
            cell_format(column.wrap, bold, None, None if column.wrap else "center")
            for column in columns
        ]
        self.missing = cell_format(False, bold, None, "center")
        self.number = cell_format(False, bold, None, None)
        self.rate = [cell_format(False, bold, RATE_FORMATS[places], None) for places in range(3)]
        self.mean = [cell_format(False, bold, MEAN_FORMATS[places], None) for places in range(3)]


RATE_FORMATS = ("0%", "0.0%", "0.00%")
MEAN_FORMATS = ("0", "0.0", "0.00")


def _write_annex_rows(worksheet, columns, header_row: int, cell_format, stats: StatsOut) -> int:
    """The units and the total under the header, as XML rows (RowsAsXmlWorksheet: the cells
    XlsxWriter would write, without its 3 µs a cell); returns the last row written."""
    units, total = _RowFormats(columns, False, cell_format), _RowFormats(columns, True, cell_format)
    wrap_columns = [index for index, column in enumerate(columns) if column.wrap]
    widths = [column.width for column in columns]
    letters = [xl_col_to_name(index) for index in range(len(columns))]
    last_column = len(columns) - 1
    # Many units share a text (their flags): each distinct text is measured once.
    line_counts: dict[tuple[str, int], int] = {}

    def lines_of(text: str, width: int) -> int:
        key = (text, width)
        if key not in line_counts:
            line_counts[key] = wrapped_lines(text, width)
        return line_counts[key]

    style = worksheet.style
    rate_places, mean_places = notice.rate_places, notice.mean_places
    rate_columns, mean_column = set(notice.RATE_COLUMNS), notice.MEAN_COLUMN
    row_number = header_row
    worksheet.start_xml_rows(header_row + 1)
    for row in notice.iter_annex_rows(stats, as_text=False):
        row_number += 1
        formats = total if row[0] == "合计" else units
        lines = max(
            [lines_of(row[index], widths[index]) for index in wrap_columns if row[index]],
            default=1,
        )
        number = str(row_number + 1)
        cells = []
        for index, value in enumerate(row):
            reference = letters[index] + number
            if value is None:
                cells.append(string_cell(reference, style(formats.missing), "—"))
            elif value.__class__ is str:
                cells.append(string_cell(reference, style(formats.text[index]), value))
            elif index in rate_columns:
                cell = number_cell(reference, style(formats.rate[rate_places(value)]), value)
                cells.append(cell)
            elif index == mean_column:
                cell = number_cell(reference, style(formats.mean[mean_places(value)]), value)
                cells.append(cell)
            else:
                cells.append(number_cell(reference, style(formats.number), value))
        worksheet.write_xml_row(
            row_number, "".join(cells), 0, last_column, height=LINE_HEIGHT * lines + 3
        )
    return row_number


def text_paragraphs(stats: StatsOut, setup: NoticeSetup) -> list[tuple[str, str]]:
    """The notice as (kind, text) paragraphs, in the order a reader reads them."""
    paragraphs = [("title", notice.title(stats, setup))]
    if setup.document_number:
        paragraphs.insert(0, ("number", clean_text(setup.document_number)))
    paragraphs += [
        ("recipients", clean_text(setup.recipients)),
        ("body", notice.opening(stats, setup)),
        ("level1", "一、总体情况"),
        ("body", notice.overview(stats, setup)),
        ("level1", "二、存在问题"),
        *(("body", paragraph) for paragraph in notice.problems(stats, setup)),
        ("level1", "三、工作要求"),
        *(("body", paragraph) for paragraph in notice.requirements(stats, setup)),
        ("body", f"附件：{notice.annex_title(stats)}"),
        ("signature", notice.issuer_of(stats, setup)),
        ("signature", notice.date_text(setup.issued_on or stats.as_of.date())),
    ]
    if contact := notice.contact_line(setup):
        paragraphs.append(("body", contact))
    return paragraphs


def write_text_sheet(workbook, stats: StatsOut, setup: NoticeSetup) -> None:
    worksheet = workbook.add_worksheet(TEXT_SHEET)
    _page_setup(worksheet, landscape=False)
    worksheet.set_column(0, 0, TEXT_WIDTH)
    styles = {
        "title": {"bold": True, "font_size": 16, "align": "center"},
        "number": {"align": "center"},
        "recipients": {},
        "level1": {"bold": True},
        "body": {"indent": 2},
        "signature": {"align": "right", "indent": 4},
    }
    formats = {
        kind: workbook.add_format({"text_wrap": True, "valign": "top", **spec})
        for kind, spec in styles.items()
    }
    for row_number, (kind, text) in enumerate(text_paragraphs(stats, setup)):
        # A big title's lines are taller and hold fewer characters.
        scale = 16 / 11 if kind == "title" else 1
        lines = wrapped_lines(text, (TEXT_WIDTH - 4) / scale)
        worksheet.set_row(row_number, (LINE_HEIGHT * scale + 2) * lines + 4)
        worksheet.write_string(row_number, 0, text, formats[kind])
    worksheet.print_area(0, 0, row_number, 0)


def write_chart_sheet(workbook, stats: StatsOut) -> None:
    """Completion and on-time first-reply rate per unit with enough valid reports to rank."""
    minimum = stats.thresholds.ranking_min_valid
    units = [unit for unit in stats.units if unit.own.valid >= minimum]
    worksheet = workbook.add_worksheet(CHART_SHEET, RowsAsXmlWorksheet)
    _page_setup(worksheet, landscape=True)
    header = workbook.add_format({"bold": True, "bg_color": HEADER_COLOR, "border": 1})
    percent = workbook.add_format({"num_format": "0.0%", "border": 1})
    text = workbook.add_format({"border": 1})
    days = stats.thresholds.first_reply_workdays
    worksheet.set_column(0, 0, 30)
    worksheet.set_column(1, 1, 10)
    worksheet.set_column(2, 2, 18)
    for index, name in enumerate(["单位", "办结率", f"{days}个工作日内答复率"]):
        worksheet.write_string(0, index, name, header)
    _write_chart_rows(worksheet, units, text, percent)
    if not units:
        worksheet.write_string(1, 0, f"本期无有效留言达到{minimum}条的单位。")
        return
    chart = workbook.add_chart({"type": "bar"})
    last = len(units)
    for index, colour in ((1, "#4472C4"), (2, "#ED7D31")):
        chart.add_series(
            {
                "name": [CHART_SHEET, 0, index],
                "categories": [CHART_SHEET, 1, 0, last, 0],
                "values": [CHART_SHEET, 1, index, last, index],
                "fill": {"color": colour},
            }
        )
    chart.set_title({"name": f"{stats.period.label}各单位办结率与{days}个工作日内答复率"})
    chart.set_x_axis({"num_format": "0%", "min": 0, "max": 1})
    chart.set_y_axis({"reverse": True})
    chart.set_legend({"position": "top"})
    height = max(320, 120 + 28 * last)
    chart.set_size({"width": 720, "height": height})
    worksheet.insert_chart(0, 4, chart)
    # What prints is the print area: without one, only the data cells and a chart cut at them.
    worksheet.print_area(0, 0, max(last, height // 20 + 1), 4 + 720 // 64 + 1)


def _write_chart_rows(worksheet, units, text, percent) -> None:
    """Each unit's name and two rates from the second row on, as XML rows (10,000 units)."""
    worksheet.start_xml_rows(1)
    name_style, percent_style = worksheet.style(text), worksheet.style(percent)
    for row_number, unit in enumerate(units, start=1):
        number = str(row_number + 1)
        cells = [string_cell("A" + number, name_style, clean_text(unit.unit_name))]
        for letter, rate in (
            ("B", unit.own.completion_rate),
            ("C", unit.own.on_time_first_reply_rate),
        ):
            if rate is None:
                cells.append(blank_cell(letter + number, name_style))
            else:
                cells.append(number_cell(letter + number, percent_style, rate))
        worksheet.write_xml_row(row_number, "".join(cells), 0, 2)


def write_notice_workbook(path: str, stats: StatsOut, setup: NoticeSetup) -> None:
    """The annex, the text and the chart as an XLSX file at path."""
    workbook = xlsxwriter.Workbook(path, {"constant_memory": True})
    workbook.set_properties({"title": notice.title(stats, setup)})
    write_annex_sheet(workbook, stats)
    write_text_sheet(workbook, stats, setup)
    write_chart_sheet(workbook, stats)
    workbook.close()
