"""Tables as files, pure: CSV that spreadsheet programs read as UTF-8, and XLSX with widths."""

import csv
import io
import math
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

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


class RowsAsXmlWorksheet(Worksheet):
    """A constant_memory worksheet that also takes whole rows already written as XML.

    XlsxWriter's own per-cell path (`write_number` and the `_write_cell` that serialises it
    when the row is flushed) costs about 3 µs a cell, so 200,000 annex cells alone take more
    than the half second the annex may take (issue #12). Rows given here skip it: the caller
    builds each row's `<c>` elements as one string, with the style numbers XlsxWriter assigns
    (`style`) and the same XML XlsxWriter writes for a number or an in-line string
    (`number_cell`, `string_cell`, `blank_cell`). Everything else stays XlsxWriter's:
    workbook, styles, merged, title and header rows, widths, print setup, filter, panes.

    What this relies on of XlsxWriter (3.x, pinned by tests/stats/test_workbook.py, which
    compares the result with the per-cell path): in constant_memory mode the rows go, in
    order, to `self.fh` (the row data file); `previous_row` is the row XlsxWriter still holds
    in `self.table`, written by `_write_single_row(next_row)` when a later row starts;
    `_check_dimensions` records the used range; `Format._get_xf_index` numbers a format the
    first time a cell uses it.
    """

    def __init__(self) -> None:
        super().__init__()
        self._style_attributes: dict[Format, str] = {}

    def start_xml_rows(self, row: int) -> None:
        """Writes out the row XlsxWriter holds before `row`, so that XML rows follow it. Call
        it before building the first XML row: the formats of the rows above are then numbered
        first, in the order a reader meets them, as with the per-cell path."""
        if not self.constant_memory:
            raise RuntimeError("rows as XML need the workbook's constant_memory mode")
        if row in self.row_info:
            raise ValueError(f"row {row} has set_row() properties: an XML row takes its height")
        if row > self.previous_row:
            self._write_single_row(row)
        elif row < self.previous_row or self.table.get(row):
            raise ValueError(f"row {row} is already written or holds cells; rows go in order")

    def style(self, cell_format: Format | None) -> str:
        """A cell's style attribute for cell_format (numbered on first use, as XlsxWriter
        numbers a format when it writes the first cell with it)."""
        if cell_format is None:
            return ""
        try:
            return self._style_attributes[cell_format]
        except KeyError:
            style = self._style_attributes[cell_format] = f' s="{cell_format._get_xf_index()}"'
            return style

    def write_xml_row(
        self, row: int, cells: str, first_col: int, last_col: int, height: float | None = None
    ) -> None:
        """The row (zero-based) with its `<c>` elements, spanning first_col..last_col, and a
        height in points as `set_row` takes it."""
        self.start_xml_rows(row)
        self._check_dimensions(row, first_col)
        self._check_dimensions(row, last_col)
        attributes = f' r="{row + 1}"'
        if height is not None:
            if height <= 0:
                raise ValueError("a hidden row (height 0) is set_row()'s, not an XML row's")
            # The conversion and test of set_row() and _write_row(): whole pixels, and a height
            # only where it is not the default one.
            pixels = int(height * 4.0 / 3.0 + 0.5)
            if pixels != self.original_row_height or pixels != self.default_row_height:
                attributes += f' ht="{pixels * 0.75:.16g}" customHeight="1"'
            self.row_sizes[row] = [pixels, False]  # where a picture over the row is placed
        if self.excel_version == 2010:
            attributes += ' x14ac:dyDescent="0.25"'
        self.fh.write(f"<row{attributes}>{cells}</row>")
        # The next row is the one XlsxWriter holds now (empty): a later write_* or set_row on
        # it, or another XML row, follows this one.
        self.previous_row = row + 1


def number_cell(reference: str, style: str, number: int | float) -> str:
    """A number as XlsxWriter writes it (`.16G`, what Excel itself keeps: 15–17 digits); a
    count as its digits, the same text below 10^16 and twice as fast (13 of the 20 annex
    columns are counts)."""
    if number.__class__ is int:
        return f'<c r="{reference}"{style}><v>{number}</v></c>'
    if not math.isfinite(number):
        raise ValueError(f"{number!r} cannot be stored in a cell")
    return f'<c r="{reference}"{style}><v>{number:.16G}</v></c>'


def string_cell(reference: str, style: str, text: str) -> str:
    """Text as an in-line string, escaped as XlsxWriter escapes it in constant_memory mode."""
    return f'<c r="{reference}"{style} t="inlineStr"><is>{_text_element(text)}</is></c>'


def blank_cell(reference: str, style: str) -> str:
    return f'<c r="{reference}"{style}/>'


# What XML or Excel's own escapes need changed: markup characters, control characters other
# than tab and newline (clean_text has dropped them already; Excel writes them as _xHHHH_), the
# two non-characters, and text that already looks like such an escape (its "_" escaped).
_NEEDS_ESCAPE = re.compile("[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
_MAX_STRING = 32767  # UTF-16 units a cell holds


def _text_element(text: str) -> str:
    if len(text) > _MAX_STRING // 2:  # as write_string(): cut at 32,767 UTF-16 units
        encoded = text.encode("utf-16-le", "surrogatepass")[: 2 * _MAX_STRING]
        text = encoded.decode("utf-16-le", "ignore")
    if _NEEDS_ESCAPE.search(text):
        text = Worksheet._escape_control_characters(text)
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if text[:1].isspace() or text[-1:].isspace():
        return f'<t xml:space="preserve">{text}</t>'
    return f"<t>{text}</t>"


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
