"""The notice workbook's rows written cell by cell, as app.stats.workbook wrote them before it
wrote them as XML (issue #12): the reference the XML rows are compared with."""

import pytest

from app.stats import notice, workbook
from app.stats.exports import notice_xlsx
from app.stats.notice import NoticeSetup
from app.stats.schemas import StatsOut
from app.stats.tables import clean_text, wrapped_lines


def annex_rows_per_cell(worksheet, columns, header_row: int, cell_format, stats: StatsOut) -> int:
    units = workbook._RowFormats(columns, False, cell_format)
    total = workbook._RowFormats(columns, True, cell_format)
    wrap_columns = [index for index, column in enumerate(columns) if column.wrap]
    row_number = header_row
    for row in notice.iter_annex_rows(stats, as_text=False):
        row_number += 1
        formats = total if row[0] == "合计" else units
        lines = max(
            [
                wrapped_lines(row[index], columns[index].width)
                for index in wrap_columns
                if row[index]
            ],
            default=1,
        )
        worksheet.set_row(row_number, workbook.LINE_HEIGHT * lines + 3)
        for index, value in enumerate(row):
            if value is None:
                worksheet.write_string(row_number, index, "—", formats.missing)
            elif isinstance(value, str):
                worksheet.write_string(row_number, index, value, formats.text[index])
            elif index in notice.RATE_COLUMNS:
                rate_format = formats.rate[notice.rate_places(value)]
                worksheet.write_number(row_number, index, value, rate_format)
            elif index == notice.MEAN_COLUMN:
                mean_format = formats.mean[notice.mean_places(value)]
                worksheet.write_number(row_number, index, value, mean_format)
            else:
                worksheet.write_number(row_number, index, value, formats.number)
    return row_number


def chart_rows_per_cell(worksheet, units, text, percent) -> None:
    for row_number, unit in enumerate(units, start=1):
        worksheet.write_string(row_number, 0, clean_text(unit.unit_name), text)
        for index, rate in ((1, unit.own.completion_rate), (2, unit.own.on_time_first_reply_rate)):
            if rate is None:
                worksheet.write_blank(row_number, index, None, text)
            else:
                worksheet.write_number(row_number, index, rate, percent)


def notice_xlsx_per_cell(
    monkeypatch: pytest.MonkeyPatch, stats: StatsOut, setup: NoticeSetup | None = None
) -> bytes:
    """The served workbook with its rows written through XlsxWriter's write_* calls."""
    with monkeypatch.context() as patched:
        patched.setattr(workbook, "_write_annex_rows", annex_rows_per_cell)
        patched.setattr(workbook, "_write_chart_rows", chart_rows_per_cell)
        return notice_xlsx(stats, setup)
