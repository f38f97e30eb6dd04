"""The nightly SLA report as files, pure: JSON, CSV (UTF-8 with BOM) and XLSX."""

import json
from enum import StrEnum

from app.stats.notice import RenderedFile
from app.stats.schemas import SlaReportOut
from app.stats.tables import Cell, Column, Sheet, csv_bytes, xlsx_bytes


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
