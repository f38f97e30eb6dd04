"""Tables as files, pure: CSV that spreadsheet programs read as UTF-8, and XLSX with widths."""

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

Cell = str | int | float | None
# A leading = + - @ makes a spreadsheet program evaluate a text cell as a formula; unit names
# come from operators' files, so text is never allowed to start one.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HEADER_FILL = PatternFill("solid", start_color="FFD9E1F2", end_color="FFD9E1F2")


@dataclass(frozen=True)
class Column:
    header: str
    width: int = 12  # in characters; a Chinese character takes two
    number_format: str | None = None
    wrap: bool = False  # long text: wrap within the width instead of running on


@dataclass(frozen=True)
class Sheet:
    title: str
    columns: Sequence[Column]
    rows: Sequence[Sequence[Cell]]
    # The last row is a total (合计): shown in bold.
    total_row: bool = False


def _safe_text(value: Cell) -> Cell:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_bytes(columns: Sequence[Column], rows: Sequence[Sequence[Cell]]) -> bytes:
    """CSV in UTF-8 with a byte-order mark, so that Excel shows Chinese text correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([column.header for column in columns])
    for row in rows:
        writer.writerow(["" if value is None else _safe_text(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    """A workbook with one table per sheet: bold headers, set widths, frozen header row."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    bold = Font(bold=True)
    header_alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    wrapped = Alignment(wrap_text=True, vertical="top")
    for sheet in sheets:
        worksheet = workbook.create_sheet(title=sheet.title[:31])
        for index, column in enumerate(sheet.columns, start=1):
            worksheet.column_dimensions[get_column_letter(index)].width = column.width
            cell = worksheet.cell(row=1, column=index, value=column.header)
            cell.font, cell.fill, cell.alignment = bold, HEADER_FILL, header_alignment
        last = len(sheet.rows) + 1
        # One pass, cell by cell: asking openpyxl for max_row after each row is quadratic.
        for row_number, row in enumerate(sheet.rows, start=2):
            for index, (column, value) in enumerate(zip(sheet.columns, row, strict=True), start=1):
                cell = worksheet.cell(row=row_number, column=index, value=value)
                if isinstance(value, str):
                    # Text stays text even when it looks like a formula.
                    cell.data_type = "s"
                elif column.number_format and isinstance(value, int | float):
                    cell.number_format = column.number_format
                if column.wrap:
                    cell.alignment = wrapped
                if sheet.total_row and row_number == last:
                    cell.font = bold
        worksheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
