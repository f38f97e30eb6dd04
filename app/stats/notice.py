"""The draft notice (通报), pure: text, CSV, XLSX and JSON from computed statistics.

It holds only aggregates and unit names: no citizen's name, phone or email can reach it.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from app.stats.schemas import Figures, Flag, StatsOut, UnitStats
from app.stats.tables import Cell, Column, Sheet, csv_bytes, xlsx_bytes

PROGRAMME = "“我为政府网站找错”"


class NoticeFormat(StrEnum):
    md = "md"
    csv = "csv"
    xlsx = "xlsx"
    json = "json"


MEDIA_TYPES = {
    NoticeFormat.md: "text/markdown; charset=utf-8",
    NoticeFormat.csv: "text/csv; charset=utf-8",
    NoticeFormat.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    NoticeFormat.json: "application/json",
}


@dataclass(frozen=True)
class RenderedFile:
    content: bytes
    media_type: str
    filename: str


# --- numbers as the notices print them ----------------------------------------------------


def rounded(numerator: int, denominator: int, scale: int) -> int:
    """numerator / denominator × scale, rounded half up, in exact integer arithmetic."""
    return (2 * numerator * scale + denominator) // (2 * denominator)


def percent_text(numerator: int, denominator: int) -> str:
    """A rate as notices print it: one decimal, half up (7/8 → 87.5%)."""
    tenths = rounded(numerator, denominator, 1000)
    return f"{tenths // 10}.{tenths % 10}%"


def decimal_text(numerator: int, denominator: int) -> str:
    """A mean with one decimal, half up (5/4 → 1.3)."""
    tenths = rounded(numerator, denominator, 10)
    return f"{tenths // 10}.{tenths % 10}"


def threshold_percent(rate: float) -> str:
    return f"{rate * 100:g}%"


def local_time_text(instant: datetime) -> str:
    return f"{instant.year}年{instant.month}月{instant.day}日{instant:%H:%M}"


# --- the text ------------------------------------------------------------------------------


def title(stats: StatsOut) -> str:
    return f"关于{stats.period.label}{PROGRAMME}网民留言办理情况的通报"


def _subject(stats: StatsOut) -> str:
    if stats.scope_unit_name is None:
        return "各单位"
    if len(stats.units) > 1:
        return f"{stats.scope_unit_name}及所属单位"
    return stats.scope_unit_name


def overview(stats: StatsOut) -> str:
    """一、总体情况: counts, valid, 属实, completion rate, first replies, handling time."""
    totals = stats.totals
    first_reply_days = stats.thresholds.first_reply_workdays
    text = (
        f"{stats.period.label}，{_subject(stats)}共受理{PROGRAMME}网民留言{totals.received}条，"
        f"其中不予受理{totals.declined}条，有效留言{totals.valid}条；"
        f"问题属实的留言{totals.confirmed}条；已办结{totals.resolved}条"
    )
    if totals.valid:
        text += f"，总体办结率{percent_text(totals.resolved, totals.valid)}"
    text += "。"
    if totals.first_replies_due:
        text += (
            f"{first_reply_days}个工作日内首次答复率"
            f"{percent_text(totals.first_replies_in_time, totals.first_replies_due)}"
        )
        text += "，" if totals.resolved else "。"
    if totals.resolved:
        text += (
            f"平均办理时间{decimal_text(totals.handling_workdays_total, totals.resolved)}个工作日。"
        )
    if totals.overdue_open:
        text += f"截至统计时点，尚有{totals.overdue_open}条留言超期未办结。"
    if stats.unrouted:
        text += f"另有{stats.unrouted}条留言尚未确定主办单位，未计入以上数字。"
    return text


def _flagged(stats: StatsOut, flag: Flag) -> list[UnitStats]:
    return [unit for unit in stats.units if flag in unit.flags]


def problems(stats: StatsOut) -> list[str]:
    """二、存在问题: low completion, slow handling, late first replies, each naming the units."""
    limits = stats.thresholds
    completion = threshold_percent(limits.completion_rate)
    handling = f"{limits.average_handling_workdays:g}个工作日"
    days = limits.first_reply_workdays

    low = sorted(
        _flagged(stats, Flag.low_completion),
        key=lambda u: (u.own.resolved / u.own.valid, u.unit_name),
    )
    if low:
        names = "、".join(
            f"{u.unit_name}（{percent_text(u.own.resolved, u.own.valid)}）" for u in low
        )
        first = (
            f"（一）网民留言办结率低于{completion}。"
            f"{names}{len(low)}家单位网民留言办结率低于{completion}。"
        )
    else:
        first = f"（一）网民留言办结率低于{completion}：本期无此类单位。"

    slow = sorted(
        _flagged(stats, Flag.slow_handling),
        key=lambda u: (-u.own.handling_workdays_total / u.own.resolved, u.unit_name),
    )
    if slow:
        names = "、".join(
            f"{u.unit_name}（{decimal_text(u.own.handling_workdays_total, u.own.resolved)}"
            "个工作日）"
            for u in slow
        )
        second = (
            f"（二）网民留言平均办理时间超过{handling}。"
            f"{names}{len(slow)}家单位网民留言平均办理时间超过{handling}。"
        )
    else:
        second = f"（二）网民留言平均办理时间超过{handling}：本期无此类单位。"

    late = sorted(
        _flagged(stats, Flag.late_first_replies),
        key=lambda u: (-u.own.late_first_replies, u.unit_name),
    )
    if late:
        counts = [u.own.late_first_replies for u in late]
        names = "、".join(u.unit_name for u in late)
        if len(late) == 1:
            said = f"1家单位有{counts[0]}条留言未在{days}个工作日内答复"
        elif len(set(counts)) == 1:
            said = f"{len(late)}家单位分别有{counts[0]}条留言未在{days}个工作日内答复"
        else:
            each = "、".join(f"{count}条" for count in counts)
            said = f"{len(late)}家单位分别有{each}留言未在{days}个工作日内答复"
        third = f"（三）留言答复不及时。{said}：{names}。"
    elif stats.totals.first_replies_due:
        third = f"（三）留言答复不及时：本期到期应答复的留言均在{days}个工作日内答复。"
    else:
        third = "（三）留言答复不及时：本期尚无到期应答复的留言。"
    return [first, second, third]


# --- the annex table -----------------------------------------------------------------------


def annex_columns(stats: StatsOut) -> list[Column]:
    days = stats.thresholds.first_reply_workdays
    return [
        Column("序号", 6),
        Column("单位", 36),
        Column("上级单位", 30),
        Column("受理留言", 10),
        Column("不予受理", 10),
        Column("有效留言", 10),
        Column("已办结", 8),
        Column("问题属实", 10),
        Column("办结率", 9, "0.0%"),
        Column(f"{days}个工作日内答复率", 20, "0.0%"),
        Column("未按时答复", 12),
        Column("平均办理时间（工作日）", 24, "0.0"),
        Column("超期未办结", 12),
        Column("存在问题", 48, wrap=True),
    ]


def annex_units(stats: StatsOut) -> list[UnitStats]:
    """Units with reports of their own in the period, in the order of the unit tree."""
    return [unit for unit in stats.units if unit.own.received]


def flag_text(stats: StatsOut, unit: UnitStats) -> str:
    limits = stats.thresholds
    parts = []
    if Flag.low_completion in unit.flags:
        parts.append(f"办结率低于{threshold_percent(limits.completion_rate)}")
    if Flag.slow_handling in unit.flags:
        parts.append(f"平均办理时间超过{limits.average_handling_workdays:g}个工作日")
    if Flag.late_first_replies in unit.flags:
        parts.append(
            f"{unit.own.late_first_replies}条留言未在{limits.first_reply_workdays}个工作日内答复"
        )
    return "；".join(parts)


def _rate_value(numerator: int, denominator: int) -> float | None:
    # The value a spreadsheet keeps is the printed one, so its display cannot round otherwise.
    return rounded(numerator, denominator, 1000) / 1000 if denominator else None


def _mean_value(total: int, count: int) -> float | None:
    return rounded(total, count, 10) / 10 if count else None


def _figure_cells(figures: Figures, *, as_text: bool) -> list[Cell]:
    if as_text:
        completion = percent_text(figures.resolved, figures.valid) if figures.valid else None
        on_time = (
            percent_text(figures.first_replies_in_time, figures.first_replies_due)
            if figures.first_replies_due
            else None
        )
        handling = (
            decimal_text(figures.handling_workdays_total, figures.resolved)
            if figures.resolved
            else None
        )
    else:
        completion = _rate_value(figures.resolved, figures.valid)
        on_time = _rate_value(figures.first_replies_in_time, figures.first_replies_due)
        handling = _mean_value(figures.handling_workdays_total, figures.resolved)
    return [
        figures.received,
        figures.declined,
        figures.valid,
        figures.resolved,
        figures.confirmed,
        completion,
        on_time,
        figures.late_first_replies,
        handling,
        figures.overdue_open,
    ]


def annex_rows(stats: StatsOut, *, as_text: bool) -> list[list[Cell]]:
    """One row per unit with reports, then the total (合计) of the whole scope."""
    names = {unit.unit_id: unit.unit_name for unit in stats.units}
    rows: list[list[Cell]] = []
    for number, unit in enumerate(annex_units(stats), start=1):
        rows.append(
            [
                number,
                unit.unit_name,
                names.get(unit.parent_id, "") if unit.parent_id else "",
                *_figure_cells(unit.own, as_text=as_text),
                flag_text(stats, unit),
            ]
        )
    rows.append(["合计", "", "", *_figure_cells(stats.totals, as_text=as_text), ""])
    return rows


# --- the formats ---------------------------------------------------------------------------


def _heading_lines(stats: StatsOut) -> list[str]:
    scope = stats.scope_unit_name or "全部单位"
    return [f"（草稿 · {scope} · 统计截至{local_time_text(stats.as_of)}）"]


def _markdown_cell(value: Cell) -> str:
    if value is None:
        return "—"
    return str(value).replace("|", "\\|").replace("\n", " ")


def notice_markdown(stats: StatsOut) -> str:
    """The notice as Markdown: title, 一、总体情况, 二、存在问题, and the annex table."""
    columns = annex_columns(stats)
    lines = [f"# {title(stats)}", "", *_heading_lines(stats), "", "## 一、总体情况", ""]
    lines += [overview(stats), "", "## 二、存在问题", ""]
    for paragraph in problems(stats):
        lines += [paragraph, ""]
    lines += ["## 附件：各单位网民留言办理情况统计表", ""]
    lines.append("| " + " | ".join(column.header for column in columns) + " |")
    # Figures align right; the number, the names and the shortfalls stay left.
    numeric = range(3, len(columns) - 1)
    lines.append(
        "|" + "|".join("---:" if i in numeric else "---" for i in range(len(columns))) + "|"
    )
    for row in annex_rows(stats, as_text=True):
        lines.append("| " + " | ".join(_markdown_cell(value) for value in row) + " |")
    return "\n".join(lines) + "\n"


def notice_csv(stats: StatsOut) -> bytes:
    """The annex table as CSV (UTF-8 with BOM)."""
    return csv_bytes(annex_columns(stats), annex_rows(stats, as_text=True))


def notice_xlsx(stats: StatsOut) -> bytes:
    """The annex table as a workbook, with the notice text on a second sheet."""
    text_rows = [[line] for line in _heading_lines(stats)]
    text_rows += [["一、总体情况"], [overview(stats)], ["二、存在问题"]]
    text_rows += [[paragraph] for paragraph in problems(stats)]
    return xlsx_bytes(
        [
            Sheet("各单位统计", annex_columns(stats), annex_rows(stats, as_text=False), True),
            # The title heads the text sheet the way the headers head the table.
            Sheet("通报正文", [Column(title(stats), 120, wrap=True)], text_rows),
        ]
    )


def notice_document(stats: StatsOut) -> dict[str, Any]:
    """The notice as data: its text and the annex rows under the annex's headers."""
    headers = [column.header for column in annex_columns(stats)]
    return {
        "title": title(stats),
        "scope_unit_id": stats.scope_unit_id,
        "scope_unit_name": stats.scope_unit_name,
        "period": stats.period.model_dump(mode="json"),
        "as_of": stats.as_of.isoformat(),
        "overview": overview(stats),
        "problems": problems(stats),
        "annex": [dict(zip(headers, row, strict=True)) for row in annex_rows(stats, as_text=False)],
    }


def render_notice(stats: StatsOut, notice_format: NoticeFormat) -> RenderedFile:
    """The notice in the requested format, with a file name for downloads."""
    match notice_format:
        case NoticeFormat.md:
            content = notice_markdown(stats).encode("utf-8")
        case NoticeFormat.csv:
            content = notice_csv(stats)
        case NoticeFormat.xlsx:
            content = notice_xlsx(stats)
        case NoticeFormat.json:
            content = json.dumps(notice_document(stats), ensure_ascii=False).encode("utf-8")
    return RenderedFile(
        content=content,
        media_type=MEDIA_TYPES[notice_format],
        filename=f"tongbao-{stats.period.key}.{notice_format.value}",
    )
