"""The draft notice (通报): its text, its annex in CSV and XLSX, and who may have it."""

import csv
import io
import json
import zipfile
from datetime import date

import openpyxl
import pytest
from sqlmodel import Session

from app.config import Settings
from app.directory.models import Unit
from app.stats.exports import notice_csv, notice_markdown, notice_xlsx, render_notice
from app.stats.notice import (
    NoticeFormat,
    annex_rows,
    decimal_text,
    overview,
    percent_text,
    problems,
)
from app.stats.periods import parse_period
from app.stats.schemas import Figures, PeriodOut, Rankings, StatsOut, Thresholds, UnitStats
from app.stats.service import statistics, unit_flags
from tests.conftest import local
from tests.stats.conftest import CITIZEN, September

AS_OF = local(2026, 10, 12, 18, 0)
THRESHOLDS = Thresholds(
    completion_rate=0.7,
    average_handling_workdays=15.0,
    ranking_min_valid=5,
    first_reply_workdays=2,
)


def made_up_stats(units: list[tuple[str, Figures]], unrouted: int | None = None) -> StatsOut:
    """Statistics of a flat list of units under a city office, without a database."""
    rows = [
        UnitStats(
            unit_id=index,
            unit_name=name,
            parent_id=0,
            level=1,
            own=own,
            subtree=own,
            flags=unit_flags(own, THRESHOLDS),
        )
        for index, (name, own) in enumerate(units, start=1)
    ]
    totals = Figures.total(own for _, own in units)
    root = UnitStats(
        unit_id=0,
        unit_name="丙市人民政府办公室",
        parent_id=None,
        level=0,
        own=Figures.from_counts({}),
        subtree=totals,
        flags=[],
    )
    return StatsOut(
        period=PeriodOut(
            key="2019-04", label="2019年4月", start=date(2019, 4, 1), end=date(2019, 4, 30)
        ),
        as_of=local(2019, 5, 6, 10, 0),
        scope_unit_id=0,
        scope_unit_name="丙市人民政府办公室",
        thresholds=THRESHOLDS,
        totals=totals,
        unrouted=unrouted,
        units=[root, *rows],
        rankings=Rankings(
            completion_rate=[], on_time_first_reply_rate=[], average_handling_workdays=[]
        ),
    )


def answered(received: int, late: int = 0, **counts: int) -> Figures:
    """A unit whose reports were all resolved, `late` of them answered after the due."""
    return Figures.from_counts(
        {
            "received": received,
            "resolved": received,
            "first_replies_due": received,
            "first_replies_in_time": received - late,
            "late_first_replies": late,
            "handling_workdays_total": received,
            **counts,
        }
    )


def test_rates_print_with_one_decimal_rounded_half_up() -> None:
    assert percent_text(49, 49) == "100.0%"
    assert percent_text(7, 8) == "87.5%"
    assert percent_text(2, 3) == "66.7%"
    assert percent_text(1, 3) == "33.3%"
    assert percent_text(1, 16) == "6.3%"  # 6.25: half up, where round() would give 6.2
    assert percent_text(0, 5) == "0.0%"
    assert decimal_text(5, 4) == "1.3"
    assert decimal_text(37, 5) == "7.4"


def test_the_overview_reads_like_a_real_notice() -> None:
    stats = made_up_stats(
        [("丙市教育局", answered(50, confirmed=30)), ("丙市民政局", answered(32, confirmed=19))]
    )
    assert overview(stats) == (
        "2019年4月，丙市人民政府办公室及所属单位共受理“我为政府网站找错”网民留言82条，"
        "其中不予受理0条，有效留言82条；问题属实的留言49条；已办结82条，总体办结率100.0%。"
        "2个工作日内首次答复率100.0%，平均办理时间1.0个工作日。"
    )


def test_units_late_with_the_same_count_are_named_together() -> None:
    stats = made_up_stats(
        [
            ("丙市教育局", answered(5, late=1)),
            ("丙市民政局", answered(5)),
            ("丙市财政局", answered(4, late=1)),
            ("丙市公安局", answered(3, late=1)),
        ]
    )
    assert problems(stats)[2] == (
        "（三）留言答复不及时。3家单位分别有1条留言未在2个工作日内答复："
        "丙市公安局、丙市教育局、丙市财政局。"
    )


def test_units_late_with_different_counts_are_listed_respectively() -> None:
    stats = made_up_stats(
        [("丙市教育局", answered(5, late=1)), ("丙市民政局", answered(6, late=3))]
    )
    assert problems(stats)[2] == (
        "（三）留言答复不及时。2家单位分别有3条、1条留言未在2个工作日内答复：丙市民政局、丙市教育局。"
    )


def test_shortfalls_name_each_unit_with_its_figure() -> None:
    low = Figures.from_counts(
        {
            "received": 10,
            "declined": 2,
            "resolved": 5,
            "first_replies_due": 8,
            "first_replies_in_time": 8,
            "handling_workdays_total": 80,
        }
    )
    stats = made_up_stats([("丙市教育局", low), ("丙市民政局", answered(4))])
    assert problems(stats) == [
        "（一）网民留言办结率低于70%。丙市教育局（62.5%）1家单位网民留言办结率低于70%。",
        "（二）网民留言平均办理时间超过15个工作日。丙市教育局（16.0个工作日）"
        "1家单位网民留言平均办理时间超过15个工作日。",
        "（三）留言答复不及时：本期到期应答复的留言均在2个工作日内答复。",
    ]
    assert "（一）网民留言办结率低于70%：本期无此类单位。" in problems(
        made_up_stats([("丙市民政局", answered(4))])
    )


def test_a_period_without_reports_says_so() -> None:
    stats = made_up_stats([("丙市民政局", Figures.from_counts({}))])
    assert overview(stats) == (
        "2019年4月，丙市人民政府办公室及所属单位共受理“我为政府网站找错”网民留言0条，"
        "其中不予受理0条，有效留言0条；问题属实的留言0条；已办结0条。"
    )
    assert problems(stats)[2] == "（三）留言答复不及时：本期尚无到期应答复的留言。"
    assert notice_markdown(stats).endswith(
        "| 合计 |  |  | 0 | 0 | 0 | 0 | 0 | — | — | 0 | — | 0 |  |\n"
    )


def test_text_cells_never_become_formulas() -> None:
    stats = made_up_stats([('=HYPERLINK("http://x")', answered(1))])
    rows = list(csv.reader(io.StringIO(notice_csv(stats).decode("utf-8-sig"))))
    assert rows[1][1] == '\'=HYPERLINK("http://x")'
    sheet = openpyxl.load_workbook(io.BytesIO(notice_xlsx(stats)))["各单位统计"]
    assert sheet["B2"].data_type == "s"


def test_the_markdown_annex_has_the_cells_of_the_text_annex() -> None:
    slow = answered(2, handling_workdays_total=40)
    declined = Figures.from_counts({"received": 2, "declined": 2})
    stats = made_up_stats(
        [("丙市|教育局", answered(5, late=1)), ("丙市\n民政局", slow), ("丙市财政局", declined)]
    )
    below = UnitStats(
        unit_id=9,
        unit_name="丙市|教育局 | 办公室",
        parent_id=1,
        level=2,
        own=answered(1),
        subtree=answered(1),
        flags=[],
    )
    stats.units.append(below)

    # The annex's text cells, where a "|" is escaped and a line break becomes a space.
    def markdown_cell(value: str | int | None) -> str:
        return "—" if value is None else str(value).replace("|", "\\|").replace("\n", " ")

    table = notice_markdown(stats).split("## 附件：各单位网民留言办理情况统计表\n\n")[1]
    assert table.splitlines()[2:] == [
        "| " + " | ".join(markdown_cell(value) for value in row) + " |"
        for row in annex_rows(stats, as_text=True)
    ]
    assert "| 4 | 丙市\\|教育局 \\| 办公室 | 丙市\\|教育局 | 1 |" in table


def notice_of(session: Session, settings: Settings, unit_id: int) -> StatsOut:
    return statistics(
        session=session,
        period=parse_period("2026-09"),
        as_of=AS_OF,
        scope=session.get(Unit, unit_id),
        settings=settings,
    )


def test_the_september_notice(session: Session, settings: Settings, september: September) -> None:
    text = notice_markdown(notice_of(session, settings, september.directory.province))
    assert text.startswith("# 关于2026年9月“我为政府网站找错”网民留言办理情况的通报\n")
    assert "统计截至2026年10月12日18:00" in text
    assert (
        "2026年9月，测试省人民政府办公厅及所属单位共受理“我为政府网站找错”网民留言8条，"
        "其中不予受理1条，有效留言7条；问题属实的留言3条；已办结5条，总体办结率71.4%。"
        "2个工作日内首次答复率66.7%，平均办理时间7.4个工作日。"
        "截至统计时点，尚有1条留言超期未办结。"
    ) in text
    assert "（一）网民留言办结率低于70%。甲市教育局（60.0%）1家单位网民留言办结率低于70%。" in text
    assert "乙市教育局（25.0个工作日）1家单位网民留言平均办理时间超过15个工作日" in text
    assert "1家单位有2条留言未在2个工作日内答复：甲市教育局。" in text
    assert (
        "| 3 | 甲市教育局 | 甲市人民政府办公室 | 6 | 1 | 5 | 3 | 2 | 60.0% | 50.0% | 2 | 3.0 | 1 "
        "| 办结率低于70%；2条留言未在2个工作日内答复 |"
    ) in text
    assert "| 合计 |  |  | 8 | 1 | 7 | 5 | 3 | 71.4% | 66.7% | 2 | 7.4 | 1 |  |" in text


def test_the_csv_annex_opens_as_utf8_in_spreadsheets(
    session: Session, settings: Settings, september: September
) -> None:
    content = notice_csv(notice_of(session, settings, september.directory.province))
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["序号", "单位", "上级单位"]
    assert rows[0][9] == "2个工作日内答复率"
    assert rows[3][:9] == [
        "3",
        "甲市教育局",
        "甲市人民政府办公室",
        "6",
        "1",
        "5",
        "3",
        "2",
        "60.0%",
    ]
    assert rows[-1][:9] == ["合计", "", "", "8", "1", "7", "5", "3", "71.4%"]


def test_the_xlsx_annex_has_headers_widths_and_number_formats(
    session: Session, settings: Settings, september: September
) -> None:
    content = notice_xlsx(notice_of(session, settings, september.directory.province))
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.testzip() is None
        assert "xl/worksheets/sheet1.xml" in archive.namelist()
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    assert workbook.sheetnames == ["各单位统计", "通报正文"]
    sheet = workbook["各单位统计"]
    assert [cell.value for cell in sheet[1]][:4] == ["序号", "单位", "上级单位", "受理留言"]
    assert sheet["A1"].font.bold
    assert sheet.column_dimensions["B"].width == 36
    assert sheet.freeze_panes == "A2"
    row = [cell.value for cell in sheet[4]]
    assert row[:8] == [3, "甲市教育局", "甲市人民政府办公室", 6, 1, 5, 3, 2]
    assert row[8] == 0.6 and sheet["I4"].number_format == "0.0%"
    assert row[11] == 3.0 and sheet["L4"].number_format == "0.0"
    total = [cell.value for cell in sheet[5]]
    assert total[0] == "合计" and total[8] == 0.714 and sheet["A5"].font.bold
    assert (
        workbook["通报正文"]["A1"].value == "关于2026年9月“我为政府网站找错”网民留言办理情况的通报"
    )


def test_the_notice_endpoint_serves_every_format(client, september: September) -> None:
    headers = september.directory.auth("supervisor_a")
    params = {"as_of": AS_OF.isoformat()}
    md = client.get("/api/v1/notices/2026-09", params=params, headers=headers)
    assert md.status_code == 200
    assert md.headers["content-type"] == "text/markdown; charset=utf-8"
    assert "甲市人民政府办公室及所属单位共受理“我为政府网站找错”网民留言7条" in md.text

    xlsx = client.get(
        "/api/v1/notices/2026-09", params={**params, "format": "xlsx"}, headers=headers
    )
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="notice-2026-09.xlsx"' in xlsx.headers["content-disposition"]
    assert (
        openpyxl.load_workbook(io.BytesIO(xlsx.content))["各单位统计"]["B2"].value
        == "甲市人民政府办公室"
    )

    document = client.get(
        "/api/v1/notices/2026-09", params={**params, "format": "json"}, headers=headers
    ).json()
    assert document["problems"][0].startswith("（一）网民留言办结率低于70%。甲市教育局（60.0%）")
    assert document["annex"][-1]["单位"] == "" and document["annex"][-1]["受理留言"] == 7

    csv_response = client.get(
        "/api/v1/notices/2026-09", params={**params, "format": "csv"}, headers=headers
    )
    assert csv_response.content.startswith(b"\xef\xbb\xbf")


def test_notices_are_refused_outside_the_callers_reach(client, september: September) -> None:
    d = september.directory
    assert client.get("/api/v1/notices/2026-09", headers=d.auth("handler_a1")).status_code == 403
    assert client.get("/api/v1/notices/2026-09").status_code == 401
    other = client.get(
        "/api/v1/notices/2026-09", params={"unit_id": d.city_b}, headers=d.auth("supervisor_a")
    )
    assert other.status_code == 404
    bad_format = client.get(
        "/api/v1/notices/2026-09", params={"format": "pdf"}, headers=d.auth("admin")
    )
    assert bad_format.status_code == 422
    bad_period = client.get("/api/v1/notices/2026-9-1", headers=d.auth("admin"))
    assert bad_period.status_code == 422


@pytest.mark.parametrize("notice_format", list(NoticeFormat))
def test_no_citizen_detail_reaches_a_notice(
    session: Session, settings: Settings, september: September, notice_format: NoticeFormat
) -> None:
    stats = statistics(
        session=session, period=parse_period("2026"), as_of=AS_OF, scope=None, settings=settings
    )
    rendered = render_notice(stats, notice_format)
    if notice_format == NoticeFormat.xlsx:
        with zipfile.ZipFile(io.BytesIO(rendered.content)) as archive:
            text = "".join(archive.read(name).decode("utf-8") for name in archive.namelist())
    else:
        text = rendered.content.decode("utf-8-sig")
    assert stats.totals.received == 9
    for detail in [*CITIZEN.values(), "5678", "页面上有错别字", "jyj.jia.example.gov.cn"]:
        assert detail not in text
    if notice_format == NoticeFormat.json:
        assert json.loads(text)["scope_unit_name"] is None
