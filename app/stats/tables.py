"""Tables as files, pure: CSV that spreadsheet programs read as UTF-8, and XLSX with widths."""

import csv
import io
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import xlsxwriter

from app.stats.text import clean_text, formula_safe

Cell = str | int | float | None
HEADER_COLOR = "#D9E1F2"
A4 = 9


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


# Wide characters: CJK punctuation, kana, ideographs, Hangul, full-width forms. One regex
# count per text instead of a Unicode lookup per character (10,000 names are written per annex).
_WIDE = re.compile(
    "[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff"
    "\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60"
    "\uffe0-\uffe6]"
)


def display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet: two for a wide (Chinese) character."""
    return len(text) + len(_WIDE.findall(text))


def wrapped_lines(text: str, width: float) -> int:
    """Lines a wrapped text takes in a column `width` characters wide (at least one)."""
    usable = max(width - 1, 1)
    return sum(max(1, -(-display_width(line) // int(usable))) for line in text.split("\n"))


def _csv_value(value: Cell) -> Cell:
    return formula_safe(value) if isinstance(value, str) else value


def csv_lines(columns: Sequence[Column], rows: Iterable[Sequence[Cell]]) -> Iterator[bytes]:
    """CSV in UTF-8, a byte-order mark first (so that Excel shows Chinese text), line by line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([column.header for column in columns])
    yield buffer.getvalue().encode("utf-8-sig")
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(["" if value is None else _csv_value(value) for value in row])
        yield buffer.getvalue().encode("utf-8")


def csv_bytes(columns: Sequence[Column], rows: Iterable[Sequence[Cell]]) -> bytes:
    return b"".join(csv_lines(columns, rows))


def file_chunks(path: str, size: int = 1 << 16) -> Iterator[bytes]:
    """A file's bytes in pieces, the file removed once read (or abandoned)."""
    try:
        with open(path, "rb") as file:
            while chunk := file.read(size):
                yield chunk
    finally:
        os.unlink(path)


def temporary_path(suffix: str) -> str:
    handle, path = tempfile.mkstemp(suffix=suffix, prefix="zhaocuo-")
    os.close(handle)
    return path


def read_and_remove(path: str) -> bytes:
    return b"".join(file_chunks(path))


def write_table(workbook, worksheet, sheet: Sheet, first_row: int = 0) -> int:
    """A table at first_row: bold filled headers, borders, widths, number formats; returns the
    row after it."""
    bold_header = workbook.add_format(
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

    def cell_format(column: Column, bold: bool, number_format: str | None):
        key = (column.wrap, bold, number_format)
        if key not in formats:
            spec = {"border": 1, "valign": "top", "bold": bold}
            if column.wrap:
                spec["text_wrap"] = True
            if number_format:
                spec["num_format"] = number_format
            formats[key] = workbook.add_format(spec)
        return formats[key]

    for index, column in enumerate(sheet.columns):
        worksheet.set_column(index, index, column.width)
    worksheet.set_row(first_row, 30)
    for index, column in enumerate(sheet.columns):
        worksheet.write_string(first_row, index, column.header, bold_header)
    last = first_row + len(sheet.rows)
    for row_number, row in enumerate(sheet.rows, start=first_row + 1):
        bold = sheet.total_row and row_number == last
        for index, (column, value) in enumerate(zip(sheet.columns, row, strict=True)):
            if isinstance(value, str):
                # Text stays text even when it looks like a formula.
                worksheet.write_string(
                    row_number, index, clean_text(value), cell_format(column, bold, None)
                )
            elif value is None:
                worksheet.write_blank(row_number, index, None, cell_format(column, bold, None))
            else:
                worksheet.write_number(
                    row_number, index, value, cell_format(column, bold, column.number_format)
                )
    return last + 1


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    """A workbook with one table per sheet: landscape A4 one page wide, header on every page."""
    path = temporary_path(".xlsx")
    workbook = xlsxwriter.Workbook(path, {"constant_memory": True})
    for sheet in sheets:
        worksheet = workbook.add_worksheet(clean_text(sheet.title)[:31].replace("/", "-"))
        worksheet.set_landscape()
        worksheet.set_paper(A4)
        worksheet.fit_to_pages(1, 0)
        worksheet.repeat_rows(0)
        worksheet.freeze_panes(1, 0)
        write_table(workbook, worksheet, sheet)
    workbook.close()
    return read_and_remove(path)
