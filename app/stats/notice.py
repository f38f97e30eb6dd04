"""The draft notice (通报), pure: its wording, and the annex table every format prints.

It holds only aggregates and unit names: no citizen's name, phone or email can reach it.
The files themselves are made in `exports` (CSV, XLSX) and `document` (DOCX).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from itertools import groupby

from app.stats.schemas import Figures, Flag, StatsOut, UnitStats
from app.stats.tables import Cell, Column
from app.stats.text import clean_text, pinyin_key

PROGRAMME = "“我为政府网站找错”"
ANNEX_SHEET = "各单位统计"


class NoticeFormat(StrEnum):
    md = "md"
    csv = "csv"
    xlsx = "xlsx"
    json = "json"
    docx = "docx"
    pdf = "pdf"


MEDIA_TYPES = {
    NoticeFormat.md: "text/markdown; charset=utf-8",
    NoticeFormat.csv: "text/csv; charset=utf-8",
    NoticeFormat.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    NoticeFormat.json: "application/json",
    NoticeFormat.docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    NoticeFormat.pdf: "application/pdf",
}


@dataclass(frozen=True)
class NoticeSetup:
    """What a notice says besides the figures: from the issuing unit's template, filled in."""

    issuer: str = ""  # 发文机关; empty: the scope unit's name
    document_number: str = ""  # 发文字号, e.g. 营政办公开〔2019〕5号
    recipients: str = "各有关单位："  # 主送机关
    contact_name: str = ""
    contact_phone: str = ""
    requirements: Sequence[str] = ()  # 三、工作要求, the deadline already filled in
    issued_on: date | None = None  # 成文日期
    max_names: int = 10  # names a list prints before "等N家单位（详见附件）"
    previous: Figures | None = None  # the previous period of the same length
    previous_label: str = ""


@dataclass(frozen=True)
class Problem:
    """One shortfall of 二、存在问题: its （一） heading and what it says."""

    heading: str
    text: str

    def __str__(self) -> str:
        return self.heading + self.text


@dataclass
class RenderedFile:
    content: bytes
    media_type: str
    filename: str
    # Large exports are handed over in pieces instead, never whole in memory.
    chunks: object = field(default=None, repr=False)


Name = Callable[[str], str]


# --- numbers as the notices print them ----------------------------------------------------


def rounded(numerator: int, denominator: int, scale: int) -> int:
    """numerator / denominator × scale, rounded half up, in exact integer arithmetic."""
    return (2 * numerator * scale + denominator) // (2 * denominator)


def _decimals(value: int, places: int) -> str:
    """An integer count of 10^-places as text, without trailing zeros (1000 → 100, 963 → 96.3)."""
    whole, fraction = divmod(value, 10**places)
    digits = f"{fraction:0{places}d}".rstrip("0")
    return f"{whole}.{digits}" if digits else str(whole)


def percent_text(numerator: int, denominator: int, *, below: float | None = None) -> str:
    """A rate as notices print it: "100%", "94%", "96.3%" (one decimal where needed, half up).

    With `below`, a rate under that threshold never prints as the threshold itself: 69.95%
    would round to 70%, so it prints with two decimals rounded down, "69.95%".
    """
    tenths = rounded(numerator, denominator, 1000)
    if below is not None and numerator < below * denominator and tenths >= round(below * 1000):
        return _decimals(numerator * 10000 // denominator, 2) + "%"
    return _decimals(tenths, 1) + "%"


def decimal_text(numerator: int, denominator: int, *, above: float | None = None) -> str:
    """A mean with at most one decimal, half up (5/4 → 1.3, 4/4 → 1); above a threshold it
    never prints as the threshold (15.04 → 15.04, not 15)."""
    tenths = rounded(numerator, denominator, 10)
    if above is not None and numerator > above * denominator and tenths <= round(above * 10):
        return _decimals(-(-numerator * 100 // denominator), 2)
    return _decimals(tenths, 1)


def rate_places(value: float) -> int:
    """Decimal places a stored rate needs in a spreadsheet: 0 (1.0), 1 (0.963), 2 (0.6995)."""
    for places in (2, 3):
        if abs(value * 10**places - round(value * 10**places)) < 1e-9:
            return places - 2
    return 2


def mean_places(value: float) -> int:
    for places in (0, 1):
        if abs(value * 10**places - round(value * 10**places)) < 1e-9:
            return places
    return 2


def threshold_percent(rate: float) -> str:
    return f"{rate * 100:g}%"


def points_text(change: float) -> str:
    """A change of a rate in percentage points, as offices write it (上升3.2个百分点)."""
    tenths = round(abs(change) * 1000)
    if tenths == 0:
        return "持平"
    return f"{'上升' if change > 0 else '下降'}{_decimals(tenths, 1)}个百分点"


def date_text(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def local_time_text(instant: datetime) -> str:
    return f"{date_text(instant)}{instant:%H:%M}"


def cutoff_text(stats: StatsOut) -> str:
    """The cut-off as a reader says it: a day's end is that day, any other instant has a time."""
    as_of = stats.as_of
    if (as_of + timedelta(microseconds=1)).time() == datetime.min.time():
        return date_text(as_of.date())
    return local_time_text(as_of)


def period_over(stats: StatsOut) -> bool:
    return stats.as_of.date() > stats.period.end


# --- the text ------------------------------------------------------------------------------


def _plain(name: str) -> str:
    return clean_text(name)


def issuer_of(stats: StatsOut, setup: NoticeSetup) -> str:
    return clean_text(setup.issuer or stats.scope_unit_name or "政府网站主管单位")


def title(stats: StatsOut, setup: NoticeSetup | None = None) -> str:
    issuer = issuer_of(stats, setup or NoticeSetup())
    return f"{issuer}关于{stats.period.label}{PROGRAMME}网民留言办理情况的通报"


def annex_title(stats: StatsOut) -> str:
    return f"{stats.period.label}各单位网民留言办理情况统计表"


def _subject(stats: StatsOut, name: Name) -> str:
    if stats.scope_unit_name is None:
        return "各单位"
    if len(stats.units) > 1:
        return f"{name(stats.scope_unit_name)}及所属单位"
    return name(stats.scope_unit_name)


def heading_line(stats: StatsOut) -> str:
    """Under the title of a draft: what it covers and when the figures were taken."""
    period = stats.period
    text = f"统计时段：{date_text(period.start)}至{date_text(period.end)}"
    text += f"；数据截至{cutoff_text(stats)}"
    if not period_over(stats):
        text += "（本期尚未结束）"
    return f"（{text}）"


def opening(stats: StatsOut, setup: NoticeSetup, name: Name = _plain) -> str:
    """The paragraph that names the work and ends 现将有关情况通报如下："""
    issuer = issuer_of(stats, setup)
    subject = _subject(stats, name)
    if stats.scope_unit_name is not None and clean_text(stats.scope_unit_name) == issuer:
        subject = "本单位及所属单位" if len(stats.units) > 1 else "本单位"
    text = (
        f"为进一步做好{PROGRAMME}网民留言办理工作，{name(issuer)}对"
        f"{stats.period.label}{subject}网民留言办理情况进行了统计"
        f"（数据截至{cutoff_text(stats)}"
    )
    text += "，本期尚未结束" if not period_over(stats) else ""
    return text + "）。现将有关情况通报如下："


def overview(stats: StatsOut, setup: NoticeSetup | None = None, name: Name = _plain) -> str:
    """一、总体情况: received, of which valid and 属实, completion, first replies, handling."""
    setup = setup or NoticeSetup()
    totals = stats.totals
    days = stats.thresholds.first_reply_workdays
    text = (
        f"{stats.period.label}，{_subject(stats, name)}共受理{PROGRAMME}网民留言{totals.received}条"
    )
    if totals.declined:
        text += f"，其中不予受理{totals.declined}条、有效留言{totals.valid}条"
    if totals.received:
        text += f"，问题属实的留言{totals.confirmed}条，已办结{totals.resolved}条"
    if totals.valid:
        text += f"，总体办结率{percent_text(totals.resolved, totals.valid)}"
    text += "。"
    figures = []
    if totals.first_replies_due:
        rate = percent_text(totals.first_replies_in_time, totals.first_replies_due)
        figures.append(f"{days}个工作日内首次答复率{rate}")
    if totals.resolved and totals.handling_workdays_total:
        mean = decimal_text(totals.handling_workdays_total, totals.resolved)
        figures.append(f"平均办理时间{mean}个工作日")
    elif totals.resolved:
        figures.append("已办结的留言均在受理当日办结")
    if figures:
        text += "，".join(figures) + "。"
    text += loop_overview(totals)
    text += _change_text(stats, setup)
    overdue = []
    if totals.overdue_unresolved:
        overdue.append(f"{totals.overdue_unresolved}条留言超期未办结")
    if totals.overdue_unanswered:
        overdue.append(f"{totals.overdue_unanswered}条留言超期未答复")
    if overdue:
        text += f"截至{cutoff_text(stats)}，尚有" + "、".join(overdue) + "。"
    text += extension_text(stats, setup, name)
    if stats.unrouted:
        text += f"另有{stats.unrouted}条留言尚未确定主办单位，未计入以上数字。"
    return text


def extension_text(stats: StatsOut, setup: NoticeSetup | None = None, name: Name = _plain) -> str:
    """The units whose reports were given more time (延期), by count, as the other lists."""
    limit = (setup or NoticeSetup()).max_names
    counted = [(name(u.unit_name), u.own.extended) for u in stats.units if u.own.extended]
    if len(counted) == 1:
        return f"{counted[0][0]}有{counted[0][1]}条留言经批准延期办理。"
    if counted:
        total = sum(count for _, count in counted)
        return (
            f"{len(counted)}家单位共有{total}条留言经批准延期办理："
            f"{counted_names(counted, limit)}。"
        )
    return ""


def _change_text(stats: StatsOut, setup: NoticeSetup) -> str:
    previous, totals = setup.previous, stats.totals
    if previous is None:
        return ""
    changes = []
    if totals.completion_rate is not None and previous.completion_rate is not None:
        changes.append(
            f"总体办结率{points_text(totals.completion_rate - previous.completion_rate)}"
        )
    if (
        totals.on_time_first_reply_rate is not None
        and previous.on_time_first_reply_rate is not None
    ):
        change = totals.on_time_first_reply_rate - previous.on_time_first_reply_rate
        changes.append(f"首次答复率{points_text(change)}")
    if not changes:
        return ""
    return f"与{setup.previous_label}相比，" + "，".join(changes) + "。"


def _names(names: list[str], total: int, limit: int) -> str:
    """At most `limit` names, then 等N家单位（详见附件） for a longer list."""
    if len(names) <= limit:
        return "、".join(names)
    return "、".join(names[:limit]) + f"等{total}家单位（详见附件）"


def counted_names(counted: list[tuple[str, int]], limit: int) -> str:
    """Units with a count each, grouped by count, largest first, at most `limit` names:
    "甲单位3条，乙单位、丙单位各2条" or "甲单位3条，乙单位、丙单位各2条等9家单位（详见附件）"."""
    ordered = sorted(counted, key=lambda item: (-item[1], pinyin_key(item[0])))
    parts, shown = [], 0
    for count, group in groupby(ordered, key=lambda item: item[1]):
        names = [unit_name for unit_name, _ in group][: limit - shown]
        shown += len(names)
        parts.append(f"{'、'.join(names)}{'各' if len(names) > 1 else ''}{count}条")
        if shown >= limit:
            break
    text = "，".join(parts)
    if shown < len(ordered):
        text += f"等{len(ordered)}家单位（详见附件）"
    return text


def _flagged(stats: StatsOut, flag: Flag) -> list[UnitStats]:
    return [unit for unit in stats.units if flag in unit.flags]


def problem_parts(
    stats: StatsOut, setup: NoticeSetup | None = None, name: Name = _plain
) -> list[Problem]:
    """二、存在问题: low completion, slow handling, late first replies, overdue open reports."""
    setup = setup or NoticeSetup()
    limit = setup.max_names
    limits = stats.thresholds
    completion = threshold_percent(limits.completion_rate)
    handling = f"{limits.average_handling_workdays:g}个工作日"
    days = limits.first_reply_workdays

    def rate(unit: UnitStats) -> str:
        return percent_text(unit.own.resolved, unit.own.valid, below=limits.completion_rate)

    def mean(unit: UnitStats) -> str:
        return decimal_text(
            unit.own.handling_workdays_total,
            unit.own.resolved,
            above=limits.average_handling_workdays,
        )

    parts: list[Problem] = []
    low = sorted(
        _flagged(stats, Flag.low_completion),
        key=lambda u: (u.own.resolved / u.own.valid, pinyin_key(u.unit_name)),
    )
    heading = f"（一）网民留言办结率低于{completion}。"
    if len(low) == 1:
        unit = low[0]
        text = f"{name(unit.unit_name)}网民留言办结率为{rate(unit)}，低于{completion}。"
    elif low:
        listed = [f"{name(u.unit_name)}（{rate(u)}）" for u in low]
        text = (
            f"{len(low)}家单位网民留言办结率低于{completion}：{_names(listed, len(low), limit)}。"
        )
    else:
        heading, text = f"（一）网民留言办结率低于{completion}：", "本期无此类单位。"
    parts.append(Problem(heading, text))

    slow = sorted(
        _flagged(stats, Flag.slow_handling),
        key=lambda u: (-u.own.handling_workdays_total / u.own.resolved, pinyin_key(u.unit_name)),
    )
    heading = f"（二）网民留言平均办理时间超过{handling}。"
    if len(slow) == 1:
        unit = slow[0]
        text = f"{name(unit.unit_name)}网民留言平均办理时间为{mean(unit)}个工作日，超过{handling}。"
    elif slow:
        listed = [f"{name(u.unit_name)}（{mean(u)}个工作日）" for u in slow]
        text = (
            f"{len(slow)}家单位网民留言平均办理时间超过{handling}："
            f"{_names(listed, len(slow), limit)}。"
        )
    else:
        heading, text = f"（二）网民留言平均办理时间超过{handling}：", "本期无此类单位。"
    parts.append(Problem(heading, text))

    late = [
        (name(u.unit_name), u.own.late_first_replies)
        for u in _flagged(stats, Flag.late_first_replies)
    ]
    heading = "（三）留言答复不及时。"
    if len(late) == 1:
        text = f"{late[0][0]}有{late[0][1]}条留言未在{days}个工作日内答复。"
    elif late and len({count for _, count in late}) == 1:
        names = [unit_name for unit_name, _ in sorted(late, key=lambda item: pinyin_key(item[0]))]
        text = (
            f"{len(late)}家单位分别有{late[0][1]}条留言未在{days}个工作日内答复："
            f"{_names(names, len(late), limit)}。"
        )
    elif late:
        total = sum(count for _, count in late)
        text = (
            f"{len(late)}家单位共有{total}条留言未在{days}个工作日内答复："
            f"{counted_names(late, limit)}。"
        )
    elif stats.totals.first_replies_due:
        heading, text = "（三）留言答复不及时：", f"本期到期应答复的留言均在{days}个工作日内答复。"
    else:
        heading, text = "（三）留言答复不及时：", "本期尚无到期应答复的留言。"
    parts.append(Problem(heading, text))

    sentences = []
    for count_of, words in (
        (lambda f: f.overdue_unresolved, "超期未办结"),
        (lambda f: f.overdue_unanswered, "超期未答复"),
    ):
        counted = [(name(u.unit_name), count_of(u.own)) for u in stats.units if count_of(u.own)]
        if len(counted) == 1:
            sentences.append(f"{counted[0][0]}有{counted[0][1]}条留言{words}。")
        elif counted:
            total = sum(count for _, count in counted)
            sentences.append(
                f"{len(counted)}家单位共有{total}条留言{words}：{counted_names(counted, limit)}。"
            )
    if sentences:
        parts.append(
            Problem("（四）留言超期未办理。", f"截至{cutoff_text(stats)}，" + "".join(sentences))
        )
    if satisfaction := low_satisfaction_problem(stats, len(parts) + 1, name, limit):
        parts.append(satisfaction)
    return parts


NUMERALS = "一二三四五六七八九十"


def loop_overview(totals: Figures) -> str:
    """The ratings, reopenings and duplicates of 一、总体情况, when there are any."""
    sentences = []
    if totals.ratings:
        rate = percent_text(totals.satisfied_ratings, totals.ratings)
        sentences.append(
            f"网民评价{totals.ratings}条，其中满意和基本满意{totals.satisfied_ratings}条，"
            f"满意率{rate}"
        )
    if totals.reopened:
        sentences.append(f"因网民不满意重新办理{totals.reopened}条")
    if totals.duplicates_declined:
        sentences.append(f"作为重复留言不予受理{totals.duplicates_declined}条")
    return "；".join(sentences) + "。" if sentences else ""


def low_satisfaction_problem(
    stats: StatsOut, number: int, name: Name = _plain, limit: int = 10
) -> Problem | None:
    """The units whose 满意率 is below the threshold, with enough ratings to judge; or None."""
    threshold = stats.thresholds.satisfaction_rate
    low = sorted(
        _flagged(stats, Flag.low_satisfaction),
        key=lambda u: (u.own.satisfied_ratings / u.own.ratings, pinyin_key(u.unit_name)),
    )
    if not low:
        return None

    def rate(unit: UnitStats) -> str:
        return percent_text(unit.own.satisfied_ratings, unit.own.ratings, below=threshold)

    limit_text = threshold_percent(threshold)
    heading = f"（{NUMERALS[number - 1]}）网民满意率低于{limit_text}。"
    if len(low) == 1:
        unit = low[0]
        text = (
            f"{name(unit.unit_name)}收到网民评价{unit.own.ratings}条，"
            f"满意率为{rate(unit)}，低于{limit_text}。"
        )
    else:
        listed = [f"{name(u.unit_name)}（{rate(u)}）" for u in low]
        text = f"{len(low)}家单位网民满意率低于{limit_text}：{_names(listed, len(low), limit)}。"
    return Problem(heading, text)


def problems(stats: StatsOut, setup: NoticeSetup | None = None, name: Name = _plain) -> list[str]:
    """二、存在问题 as whole paragraphs."""
    return [str(part) for part in problem_parts(stats, setup, name)]


DEFAULT_REQUIREMENTS = (
    "各单位要高度重视{programme}网民留言办理工作，对本通报指出的问题逐项整改，"
    "落实专人负责，确保网民留言在规定时限内答复、办结。",
    "请{recipients}于{deadline}前将整改情况书面报{issuer}。",
)


def requirements(stats: StatsOut, setup: NoticeSetup) -> list[str]:
    """三、工作要求, from the template (the deadline already in it) or the default wording."""
    if setup.requirements:
        return [clean_text(paragraph) for paragraph in setup.requirements]
    return [
        paragraph.format(
            programme=PROGRAMME,
            recipients="各单位",
            deadline="规定时限",
            issuer=issuer_of(stats, setup),
        )
        for paragraph in DEFAULT_REQUIREMENTS
    ]


def contact_line(setup: NoticeSetup) -> str:
    parts = []
    if setup.contact_name:
        parts.append(f"联系人：{clean_text(setup.contact_name)}")
    if setup.contact_phone:
        parts.append(f"联系电话：{clean_text(setup.contact_phone)}")
    return f"（{'  '.join(parts)}）" if parts else ""


# --- the annex table -----------------------------------------------------------------------


def annex_columns(stats: StatsOut) -> list[Column]:
    days = stats.thresholds.first_reply_workdays
    return [
        Column("序号", 6),
        Column("单位", 24, wrap=True),
        Column("上级单位", 20, wrap=True),
        Column("受理留言", 7),
        Column("不予受理", 7),
        Column("有效留言", 7),
        Column("已办结", 7),
        Column("问题属实", 7),
        Column("办结率", 9, "0.0%"),
        Column(f"{days}个工作日内答复率", 9, "0.0%"),
        Column("未按时答复", 7),
        Column("平均办理时间（工作日）", 9, "0.0"),
        Column("超期未答复", 7),
        Column("超期未办结", 7),
        Column("批准延期", 7),
        Column("网民评价", 7),
        Column("满意率", 9, "0.0%"),
        Column("重办", 7),
        Column("重复留言", 7),
        Column("存在问题", 28, wrap=True),
    ]


RATE_COLUMNS = (8, 9, 16)
MEAN_COLUMN = 11


def annex_units(stats: StatsOut) -> list[UnitStats]:
    """Every unit in scope, in the order of the unit tree; those without reports show zeros."""
    return list(stats.units)


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
    if Flag.low_satisfaction in unit.flags:
        parts.append(f"满意率低于{threshold_percent(limits.satisfaction_rate)}")
    return "；".join(parts)


def _rate_value(numerator: int, denominator: int, below: float | None) -> float | None:
    # The value a spreadsheet keeps is the printed one, so its display cannot round otherwise.
    if not denominator:
        return None
    if below is not None and numerator < below * denominator:
        thousandths = rounded(numerator, denominator, 1000)
        if thousandths >= round(below * 1000):
            return (numerator * 10000 // denominator) / 10000
    return rounded(numerator, denominator, 1000) / 1000


def _mean_value(total: int, count: int, above: float | None) -> float | None:
    if not count:
        return None
    tenths = rounded(total, count, 10)
    if above is not None and total > above * count and tenths <= round(above * 10):
        return -(-total * 100 // count) / 100
    return tenths / 10


def _figure_cells(figures: Figures, stats: StatsOut, *, as_text: bool, flagged: bool) -> list[Cell]:
    limits = stats.thresholds
    below = limits.completion_rate if flagged else None
    above = limits.average_handling_workdays if flagged else None
    if as_text:
        completion = (
            percent_text(figures.resolved, figures.valid, below=below) if figures.valid else None
        )
        on_time = (
            percent_text(figures.first_replies_in_time, figures.first_replies_due)
            if figures.first_replies_due
            else None
        )
        handling = (
            decimal_text(figures.handling_workdays_total, figures.resolved, above=above)
            if figures.resolved
            else None
        )
    else:
        completion = _rate_value(figures.resolved, figures.valid, below)
        on_time = _rate_value(figures.first_replies_in_time, figures.first_replies_due, None)
        handling = _mean_value(figures.handling_workdays_total, figures.resolved, above)
    return [
        *_main_cells(figures, completion, on_time, handling),
        *_loop_cells(figures, stats, as_text=as_text, flagged=flagged),
    ]


def _loop_cells(figures: Figures, stats: StatsOut, *, as_text: bool, flagged: bool) -> list[Cell]:
    """网民评价, 满意率, 重办, 重复留言."""
    below = stats.thresholds.satisfaction_rate if flagged else None
    if not figures.ratings:
        satisfaction = None
    elif as_text:
        satisfaction = percent_text(figures.satisfied_ratings, figures.ratings, below=below)
    else:
        satisfaction = _rate_value(figures.satisfied_ratings, figures.ratings, below)
    return [figures.ratings, satisfaction, figures.reopened, figures.duplicates_declined]


def _main_cells(figures: Figures, completion: Cell, on_time: Cell, handling: Cell) -> list[Cell]:
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
        figures.overdue_unanswered,
        figures.overdue_unresolved,
        figures.extended,
    ]


def annex_rows(stats: StatsOut, *, as_text: bool) -> list[list[Cell]]:
    """One row per unit in scope, then the total (合计) of the whole scope."""
    return list(iter_annex_rows(stats, as_text=as_text))


def iter_annex_rows(stats: StatsOut, *, as_text: bool):
    """The annex rows one at a time, for exports that stream them."""
    names = {unit.unit_id: unit.unit_name for unit in stats.units}
    for number, unit in enumerate(annex_units(stats), start=1):
        yield [
            number,
            clean_text(unit.unit_name),
            clean_text(names.get(unit.parent_id, "")) if unit.parent_id else "",
            *_figure_cells(unit.own, stats, as_text=as_text, flagged=bool(unit.flags)),
            flag_text(stats, unit),
        ]
    yield ["合计", "", "", *_figure_cells(stats.totals, stats, as_text=as_text, flagged=False), ""]


def default_setup(stats: StatsOut) -> NoticeSetup:
    return NoticeSetup(issued_on=stats.as_of.date())
