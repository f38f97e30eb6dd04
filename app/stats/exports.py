"""Notices and nightly SLA reports as files: Markdown, JSON, CSV (UTF-8 with BOM), XLSX,
DOCX and PDF."""

import json
from enum import StrEnum
from typing import Any

from app.stats import notice
from app.stats.document import notice_docx
from app.stats.notice import (
    MEDIA_TYPES as NOTICE_MEDIA_TYPES,
)
from app.stats.notice import (
    NoticeFormat,
    NoticeSetup,
    RenderedFile,
    annex_columns,
    annex_rows,
    default_setup,
    iter_annex_rows,
)
from app.stats.pdf import convert_to_pdf
from app.stats.schemas import SlaReportOut, StatsOut
from app.stats.tables import (
    Cell,
    Column,
    Sheet,
    csv_bytes,
    csv_lines,
    file_chunks,
    read_and_remove,
    temporary_path,
    xlsx_bytes,
)
from app.stats.text import markdown_escaped
from app.stats.workbook import write_notice_workbook

# --- the notice ----------------------------------------------------------------------------


def _markdown_cell(value: Cell) -> str:
    if value is None:
        return "—"
    return markdown_escaped(str(value))


def notice_markdown(stats: StatsOut, setup: NoticeSetup | None = None) -> str:
    """The notice as Markdown: title, opening, 一、二、三, and the annex table."""
    setup = setup or default_setup(stats)
    name = markdown_escaped
    columns = annex_columns(stats)
    lines = [f"# {markdown_escaped(notice.title(stats, setup))}", ""]
    if setup.document_number:
        lines += [markdown_escaped(setup.document_number), ""]
    lines += [notice.heading_line(stats), "", markdown_escaped(setup.recipients), ""]
    lines += [notice.opening(stats, setup, name), "", "## 一、总体情况", ""]
    lines += [notice.overview(stats, setup, name), "", "## 二、存在问题", ""]
    for paragraph in notice.problems(stats, setup, name):
        lines += [paragraph, ""]
    lines += ["## 三、工作要求", ""]
    for paragraph in notice.requirements(stats, setup):
        lines += [markdown_escaped(paragraph), ""]
    lines += [f"## 附件：{notice.annex_title(stats)}", ""]
    lines.append("| " + " | ".join(column.header for column in columns) + " |")
    # Figures align right; the number, the names and the shortfalls stay left.
    numeric = range(3, len(columns) - 1)
    lines.append(
        "|" + "|".join("---:" if i in numeric else "---" for i in range(len(columns))) + "|"
    )
    for row in iter_annex_rows(stats, as_text=True):
        lines.append("| " + " | ".join(_markdown_cell(value) for value in row) + " |")
    return "\n".join(lines) + "\n"


def notice_csv(stats: StatsOut) -> bytes:
    """The annex table as CSV (UTF-8 with BOM)."""
    return csv_bytes(annex_columns(stats), iter_annex_rows(stats, as_text=True))


def notice_xlsx_path(stats: StatsOut, setup: NoticeSetup | None = None) -> str:
    """The workbook written to a temporary file (the caller streams and removes it)."""
    path = temporary_path(".xlsx")
    write_notice_workbook(path, stats, setup or default_setup(stats))
    return path


def notice_xlsx(stats: StatsOut, setup: NoticeSetup | None = None) -> bytes:
    """The annex table laid out to print, the notice text and a chart, as one workbook."""
    return read_and_remove(notice_xlsx_path(stats, setup))


def notice_document(stats: StatsOut, setup: NoticeSetup | None = None) -> dict[str, Any]:
    """The notice as data: its text and the annex rows under the annex's headers."""
    setup = setup or default_setup(stats)
    headers = [column.header for column in annex_columns(stats)]
    return {
        "title": notice.title(stats, setup),
        "document_number": setup.document_number,
        "recipients": setup.recipients,
        "scope_unit_id": stats.scope_unit_id,
        "scope_unit_name": stats.scope_unit_name,
        "period": stats.period.model_dump(mode="json"),
        "as_of": stats.as_of.isoformat(),
        "period_over": notice.period_over(stats),
        "opening": notice.opening(stats, setup),
        "overview": notice.overview(stats, setup),
        "problems": notice.problems(stats, setup),
        "requirements": notice.requirements(stats, setup),
        "annex_title": notice.annex_title(stats),
        "annex": [dict(zip(headers, row, strict=True)) for row in annex_rows(stats, as_text=False)],
    }


def render_notice(
    stats: StatsOut,
    notice_format: NoticeFormat,
    setup: NoticeSetup | None = None,
    *,
    stream: bool = False,
) -> RenderedFile:
    """The notice in the requested format, with a file name for downloads.

    With `stream`, CSV and XLSX come as chunks (rows as they are written; the workbook from a
    temporary file), never whole in memory.
    """
    setup = setup or default_setup(stats)
    chunks = None
    content = b""
    match notice_format:
        case NoticeFormat.md:
            content = notice_markdown(stats, setup).encode("utf-8")
        case NoticeFormat.csv if stream:
            chunks = csv_lines(annex_columns(stats), iter_annex_rows(stats, as_text=True))
        case NoticeFormat.csv:
            content = notice_csv(stats)
        case NoticeFormat.xlsx if stream:
            chunks = file_chunks(notice_xlsx_path(stats, setup))
        case NoticeFormat.xlsx:
            content = notice_xlsx(stats, setup)
        case NoticeFormat.json:
            content = json.dumps(notice_document(stats, setup), ensure_ascii=False).encode()
        case NoticeFormat.docx:
            content = notice_docx(stats, setup)
        case NoticeFormat.pdf:
            content = convert_to_pdf(notice_docx(stats, setup), ".docx")
    return RenderedFile(
        content=content,
        media_type=NOTICE_MEDIA_TYPES[notice_format],
        filename=f"tongbao-{stats.period.key}.{notice_format.value}",
        chunks=chunks,
    )


# --- the nightly SLA report ----------------------------------------------------------------


class SlaFormat(StrEnum):
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


SLA_COLUMNS = [
    Column("单位", 36),
    Column("未办结留言", 12),
    Column("当日到期", 10),
    Column("首次答复超期", 14),
    Column("办结超期", 10),
    Column("提醒", 8),
    Column("催办", 8),
    Column("督办", 8),
]
MEDIA_TYPES = {
    SlaFormat.json: "application/json",
    SlaFormat.csv: "text/csv; charset=utf-8",
    SlaFormat.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def sla_rows(report: SlaReportOut) -> list[list[Cell]]:
    """One row per unit, then the total (合计)."""
    rows: list[list[Cell]] = [
        [
            line.unit_name,
            line.open_reports,
            line.due_today,
            line.overdue_first_replies,
            line.overdue_resolutions,
            line.reminders,
            line.urges,
            line.supervisions,
        ]
        for line in report.lines
    ]
    totals = report.totals
    rows.append(
        [
            "合计",
            totals["open_reports"],
            totals["due_today"],
            totals["overdue_first_replies"],
            totals["overdue_resolutions"],
            totals["reminders"],
            totals["urges"],
            totals["supervisions"],
        ]
    )
    return rows


def render_sla_report(report: SlaReportOut, sla_format: SlaFormat) -> RenderedFile:
    """A stored SLA report in one format, with its file name."""
    match sla_format:
        case SlaFormat.json:
            content = json.dumps(report.model_dump(mode="json"), ensure_ascii=False).encode()
        case SlaFormat.csv:
            content = csv_bytes(SLA_COLUMNS, sla_rows(report))
        case SlaFormat.xlsx:
            title = f"SLA {report.report_date.isoformat()}"
            content = xlsx_bytes([Sheet(title, SLA_COLUMNS, sla_rows(report), total_row=True)])
    return RenderedFile(
        content=content,
        media_type=MEDIA_TYPES[sla_format],
        filename=f"sla-report-{report.report_date.isoformat()}.{sla_format.value}",
    )
