"""The draft notice (通报): its text, its annex in CSV and XLSX, and who may have it."""

import csv
import io
import json
import zipfile

import docx
import openpyxl
import pytest
from sqlmodel import Session

from app.config import Settings
from app.directory.models import Unit
from app.stats import pdf
from app.stats.exports import notice_csv, notice_markdown, notice_xlsx, render_notice
from app.stats.notice import (
    NoticeFormat,
    NoticeSetup,
    annex_rows,
    decimal_text,
    heading_line,
    opening,
    overview,
    percent_text,
    problems,
)
from app.stats.periods import parse_period
from app.stats.schemas import Figures, StatsOut, UnitStats
from app.stats.service import statistics
from tests.conftest import local
from tests.stats.conftest import CITIZEN, September
from tests.stats.figures import answered, made_up_stats

AS_OF = local(2026, 10, 12, 18, 0)


def test_rates_print_as_real_notices_write_them() -> None:
    assert percent_text(49, 49) == "100%"
    assert percent_text(47, 50) == "94%"
    assert percent_text(963, 1000) == "96.3%"
    assert percent_text(7, 8) == "87.5%"
    assert percent_text(2, 3) == "66.7%"
    assert percent_text(1, 16) == "6.3%"  # 6.25: half up, where round() would give 6.2
    assert percent_text(0, 5) == "0%"
    assert decimal_text(5, 4) == "1.3"
    assert decimal_text(37, 5) == "7.4"
    assert decimal_text(16, 1) == "16"


def test_a_flagged_value_never_prints_as_the_threshold() -> None:
    # 69.95% rounds to 70.0%: below the threshold it prints what keeps the sentence true.
    assert percent_text(1399, 2000) == "70%"
    assert percent_text(1399, 2000, below=0.7) == "69.95%"
    assert percent_text(6999, 10000, below=0.7) == "69.99%"
    assert percent_text(1, 2, below=0.7) == "50%"
    assert decimal_text(1504, 100, above=15) == "15.04"
    assert decimal_text(3001, 200, above=15) == "15.01"  # 15.005 rounds up to 15.01
    assert decimal_text(1504, 100) == "15"
    nearly = Figures.from_counts(
        {
            "received": 2000,
            "resolved": 1399,
            "first_replies_due": 2000,
            "first_replies_in_time": 2000,
            "handling_workdays_total": 1399,
        }
    )
    stats = made_up_stats([("丙市教育局", nearly)])
    assert problems(stats)[0] == (
        "（一）网民留言办结率低于70%。丙市教育局网民留言办结率为69.95%，低于70%。"
    )
    row = annex_rows(stats, as_text=True)[1]
    assert row[8] == "69.95%" and row[-1] == "办结率低于70%"
    sheet = openpyxl.load_workbook(io.BytesIO(notice_xlsx(stats)))["各单位统计"]
    assert sheet["I6"].value == 0.6995 and sheet["I6"].number_format == "0.00%"


def test_the_overview_reads_like_a_real_notice() -> None:
    stats = made_up_stats(
        [("丙市教育局", answered(50, confirmed=30)), ("丙市民政局", answered(32, confirmed=19))]
    )
    assert overview(stats) == (
        "2019年4月，丙市人民政府办公室及所属单位共受理“我为政府网站找错”网民留言82条，"
        "问题属实的留言49条，已办结82条，总体办结率100%。"
        "2个工作日内首次答复率100%，平均办理时间1个工作日。"
    )


def test_the_overview_names_declined_overdue_and_the_change_against_the_last_period() -> None:
    open_late = Figures.from_counts(
        {
            "received": 12,
            "declined": 2,
            "resolved": 6,
            "first_replies_due": 10,
            "first_replies_in_time": 9,
            "late_first_replies": 1,
            "overdue_open": 3,
            "overdue_unanswered": 1,
        }
    )
    stats = made_up_stats([("丙市教育局", open_late)])
    setup = NoticeSetup(previous=answered(10, late=2), previous_label="上期（2019年3月）")
    assert overview(stats, setup) == (
        "2019年4月，丙市人民政府办公室及所属单位共受理“我为政府网站找错”网民留言12条，"
        "其中不予受理2条、有效留言10条，问题属实的留言0条，已办结6条，总体办结率60%。"
        "2个工作日内首次答复率90%，已办结的留言均在受理当日办结。"
        "与上期（2019年3月）相比，总体办结率下降40个百分点，首次答复率上升10个百分点。"
        "截至2019年5月6日10:00，尚有2条留言超期未办结、1条留言超期未答复。"
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
    # In pinyin order: cái, gōng, jiào.
    assert problems(stats)[2] == (
        "（三）留言答复不及时。3家单位分别有1条留言未在2个工作日内答复："
        "丙市财政局、丙市公安局、丙市教育局。"
    )


def test_units_late_with_different_counts_are_grouped_by_count() -> None:
    stats = made_up_stats(
        [
            ("丙市教育局", answered(5, late=1)),
            ("丙市民政局", answered(6, late=3)),
            ("丙市财政局", answered(6, late=2)),
            ("丙市公安局", answered(6, late=2)),
        ]
    )
    assert problems(stats)[2] == (
        "（三）留言答复不及时。4家单位共有8条留言未在2个工作日内答复："
        "丙市民政局3条，丙市财政局、丙市公安局各2条，丙市教育局1条。"
    )
    assert problems(stats, NoticeSetup(max_names=2))[2] == (
        "（三）留言答复不及时。4家单位共有8条留言未在2个工作日内答复："
        "丙市民政局3条，丙市财政局2条等4家单位（详见附件）。"
    )


def test_long_lists_stop_at_the_setting_and_point_to_the_annex() -> None:
    units = [(f"丙市第{number:02d}局", answered(5, late=1)) for number in range(1, 13)]
    stats = made_up_stats(units)
    names = "、".join(f"丙市第{number:02d}局" for number in range(1, 11))
    assert problems(stats)[2] == (
        f"（三）留言答复不及时。12家单位分别有1条留言未在2个工作日内答复：{names}"
        "等12家单位（详见附件）。"
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
    lower = Figures.from_counts({"received": 4, "resolved": 1, "handling_workdays_total": 1})
    stats = made_up_stats([("丙市教育局", low), ("丙市民政局", answered(4))])
    assert problems(stats) == [
        "（一）网民留言办结率低于70%。丙市教育局网民留言办结率为62.5%，低于70%。",
        "（二）网民留言平均办理时间超过15个工作日。丙市教育局网民留言平均办理时间为16个工作日，"
        "超过15个工作日。",
        "（三）留言答复不及时：本期到期应答复的留言均在2个工作日内答复。",
    ]
    two = made_up_stats([("丙市教育局", low), ("丙市民政局", lower)])
    assert problems(two)[0] == (
        "（一）网民留言办结率低于70%。2家单位网民留言办结率低于70%："
        "丙市民政局（25%）、丙市教育局（62.5%）。"
    )
    assert "（一）网民留言办结率低于70%：本期无此类单位。" in problems(
        made_up_stats([("丙市民政局", answered(4))])
    )


def test_a_period_without_reports_says_so() -> None:
    stats = made_up_stats([("丙市民政局", Figures.from_counts({}))])
    assert overview(stats) == (
        "2019年4月，丙市人民政府办公室及所属单位共受理“我为政府网站找错”网民留言0条。"
    )
    assert problems(stats)[2] == "（三）留言答复不及时：本期尚无到期应答复的留言。"
    assert notice_markdown(stats).endswith(
        "| 合计 |  |  | 0 | 0 | 0 | 0 | 0 | — | — | 0 | — | 0 | 0 | 0 | 0 | — | 0 | 0 |  |\n"
    )


@pytest.mark.parametrize(
    "name",
    ['=HYPERLINK("http://x")', "+1", "-1", "@SUM(A1)", " =1", "\u200b=1", "丙市\n=1", "\t=1"],
)
def test_text_cells_never_become_formulas(name: str) -> None:
    stats = made_up_stats([(name, answered(1))])
    rows = list(csv.reader(io.StringIO(notice_csv(stats).decode("utf-8-sig"))))
    assert rows[2][1].startswith("'") and rows[2][1][1:] == name
    sheet = openpyxl.load_workbook(io.BytesIO(notice_xlsx(stats)))["各单位统计"]
    assert sheet["B6"].data_type == "s" and sheet["B6"].value == name


def test_ordinary_names_keep_their_text_in_csv() -> None:
    stats = made_up_stats([("丙市教育局（2=3）", answered(1))])
    rows = list(csv.reader(io.StringIO(notice_csv(stats).decode("utf-8-sig"))))
    assert rows[2][1] == "丙市教育局（2=3）"


def test_unit_names_in_markdown_prose_are_escaped() -> None:
    stats = made_up_stats([("丙市*教育*局_[1](x)", answered(5, late=1))])
    text = notice_markdown(stats)
    assert "丙市\\*教育\\*局\\_\\[1\\](x)有1条留言未在2个工作日内答复。" in text
    assert "丙市*教育*局" not in text


@pytest.mark.parametrize("notice_format", [f for f in NoticeFormat if f != NoticeFormat.pdf])
def test_exports_never_fail_on_a_stored_control_character(notice_format: NoticeFormat) -> None:
    stats = made_up_stats([("丙市\x0b教育\x01局", answered(5, late=1))])
    rendered = render_notice(stats, notice_format)
    if notice_format in (NoticeFormat.xlsx, NoticeFormat.docx):
        with zipfile.ZipFile(io.BytesIO(rendered.content)) as archive:
            text = "".join(
                archive.read(name).decode("utf-8")
                for name in archive.namelist()
                if name.endswith(".xml")
            )
        if notice_format == NoticeFormat.xlsx:
            assert (
                openpyxl.load_workbook(io.BytesIO(rendered.content))["各单位统计"]["B6"].value
                == "丙市教育局"
            )
        else:
            assert "丙市教育局有1条留言" in "".join(
                p.text for p in docx.Document(io.BytesIO(rendered.content)).paragraphs
            )
    else:
        text = rendered.content.decode("utf-8-sig")
        assert "丙市教育局" in text
    assert "\x0b" not in text and "\x01" not in text


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

    table = notice_markdown(stats).split("## 附件：2019年4月各单位网民留言办理情况统计表\n\n")[1]
    assert table.splitlines()[2:] == [
        "| " + " | ".join(markdown_cell(value) for value in row) + " |"
        for row in annex_rows(stats, as_text=True)
    ]
    assert "| 5 | 丙市\\|教育局 \\| 办公室 | 丙市\\|教育局 | 1 |" in table


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
    assert text.startswith(
        "# 测试省人民政府办公厅关于2026年9月“我为政府网站找错”网民留言办理情况的通报\n\n"
        "（统计时段：2026年9月1日至2026年9月30日；数据截至2026年10月12日18:00）\n"
    )
    assert (
        "2026年9月，测试省人民政府办公厅及所属单位共受理“我为政府网站找错”网民留言8条，"
        "其中不予受理1条、有效留言7条，问题属实的留言3条，已办结5条，总体办结率71.4%。"
        "2个工作日内首次答复率66.7%，平均办理时间7.4个工作日。作为重复留言不予受理1条。"
        "截至2026年10月12日18:00，尚有1条留言超期未答复。"
    ) in text
    # 甲市教育局 resolved 3 of 5, but R4 and R5 are not due yet: not flagged for completion.
    assert "（一）网民留言办结率低于70%：本期无此类单位。" in text
    assert "乙市教育局网民留言平均办理时间为25个工作日，超过15个工作日。" in text
    assert "（三）留言答复不及时。甲市教育局有2条留言未在2个工作日内答复。" in text
    assert "（四）留言超期未办理。截至2026年10月12日18:00，甲市教育局有1条留言超期未答复。" in text
    assert (
        "| 3 | 甲市教育局 | 甲市人民政府办公室 | 6 | 1 | 5 | 3 | 2 | 60% | 50% | 2 | 3 | 1 | 0 "
        "| 0 | 0 | — | 0 | 1 | 2条留言未在2个工作日内答复 |"
    ) in text
    assert (
        "| 合计 |  |  | 8 | 1 | 7 | 5 | 3 | 71.4% | 66.7% | 2 | 7.4 | 1 | 0 | 0 | 0 "
        "| — | 0 | 1 |  |"
    ) in text


def test_a_period_not_over_says_so(
    session: Session, settings: Settings, september: September
) -> None:
    stats = statistics(
        session=session,
        period=parse_period("2026-10"),
        as_of=AS_OF,
        scope=session.get(Unit, september.directory.province),
        settings=settings,
    )
    assert heading_line(stats) == (
        "（统计时段：2026年10月1日至2026年10月31日；数据截至2026年10月12日18:00（本期尚未结束））"
    )
    assert "（数据截至2026年10月12日18:00，本期尚未结束）。现将有关情况通报如下：" in opening(
        stats, NoticeSetup()
    )


def test_the_csv_annex_opens_as_utf8_in_spreadsheets(
    session: Session, settings: Settings, september: September
) -> None:
    content = notice_csv(notice_of(session, settings, september.directory.province))
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["序号", "单位", "上级单位"]
    assert rows[0][9] == "2个工作日内答复率"
    assert rows[0][12:15] == ["超期未答复", "超期未办结", "批准延期"]
    # Every unit in scope, those without reports with zeros, in the order of the tree.
    assert [row[1] for row in rows[1:]] == [
        "测试省人民政府办公厅",
        "甲市人民政府办公室",
        "甲市教育局",
        "乙市人民政府办公室",
        "乙市教育局",
        "",
    ]
    assert rows[3][:9] == ["3", "甲市教育局", "甲市人民政府办公室", "6", "1", "5", "3", "2", "60%"]
    assert rows[4][3:9] == ["0", "0", "0", "0", "0", ""]
    assert rows[-1][:9] == ["合计", "", "", "8", "1", "7", "5", "3", "71.4%"]


def test_the_xlsx_annex_is_laid_out_to_print(
    session: Session, settings: Settings, september: September
) -> None:
    content = notice_xlsx(notice_of(session, settings, september.directory.province))
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.testzip() is None
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    assert workbook.sheetnames == ["各单位统计", "通报正文", "图表"]
    sheet = workbook["各单位统计"]
    assert sheet["A1"].value == "附件1"
    assert sheet["A2"].value == "2026年9月各单位网民留言办理情况统计表"
    assert "A2:T2" in {str(cells) for cells in sheet.merged_cells.ranges}
    assert sheet["A3"].value == (
        "范围：测试省人民政府办公厅　统计时段：2026年9月1日至2026年9月30日；"
        "数据截至2026年10月12日18:00"
    )
    assert [cell.value for cell in sheet[4]][:4] == ["序号", "单位", "上级单位", "受理留言"]
    assert sheet["A4"].font.bold and sheet["A4"].fill.fgColor.rgb == "FFD9E1F2"
    assert sheet["B4"].border.left.style == "thin" and sheet["B7"].border.bottom.style == "thin"
    assert sheet.column_dimensions["B"].width == pytest.approx(24, abs=1)
    assert sheet.freeze_panes == "A5"
    assert sheet.auto_filter.ref == "A4:T9"
    assert sheet.print_title_rows == "$4:$4"
    setup = sheet.page_setup
    assert setup.orientation == "landscape" and setup.paperSize == 9
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert setup.fitToWidth in (None, 1) and setup.fitToHeight == 0  # None: the default, 1
    row = [cell.value for cell in sheet[7]]
    assert row[:8] == [3, "甲市教育局", "甲市人民政府办公室", 6, 1, 5, 3, 2]
    assert row[8] == 0.6 and sheet["I7"].number_format == "0%"
    assert row[11] == 3.0 and sheet["L7"].number_format == "0"
    assert sheet["T7"].alignment.wrap_text
    total = [cell.value for cell in sheet[10]]
    assert total[0] == "合计" and total[8] == 0.714 and sheet["A10"].font.bold
    assert sheet["I10"].number_format == "0.0%"
    text = workbook["通报正文"]
    assert (
        text["A1"].value
        == "测试省人民政府办公厅关于2026年9月“我为政府网站找错”网民留言办理情况的通报"
    )
    assert text["A1"].alignment.wrap_text and text.page_setup.orientation == "portrait"
    # Each paragraph's row is tall enough for its wrapped lines.
    assert all(text.row_dimensions[r].height >= 20 for r in range(1, text.max_row + 1))
    chart_sheet = workbook["图表"]
    assert [cell.value for cell in chart_sheet[1]][:3] == ["单位", "办结率", "2个工作日内答复率"]
    assert chart_sheet["A2"].value == "甲市教育局"  # the one unit with 5 valid reports
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert any(name.startswith("xl/charts/chart") for name in archive.namelist())


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
    assert xlsx.headers["content-disposition"] == 'attachment; filename="tongbao-2026-09.xlsx"'
    assert (
        openpyxl.load_workbook(io.BytesIO(xlsx.content))["各单位统计"]["B5"].value
        == "甲市人民政府办公室"
    )

    document = client.get(
        "/api/v1/notices/2026-09", params={**params, "format": "json"}, headers=headers
    ).json()
    assert (
        document["problems"][2] == "（三）留言答复不及时。甲市教育局有2条留言未在2个工作日内答复。"
    )
    assert document["annex"][-1]["单位"] == "" and document["annex"][-1]["受理留言"] == 7

    csv_response = client.get(
        "/api/v1/notices/2026-09", params={**params, "format": "csv"}, headers=headers
    )
    assert csv_response.content.startswith(b"\xef\xbb\xbf")
    word = client.get(
        "/api/v1/notices/2026-09", params={**params, "format": "docx"}, headers=headers
    )
    assert word.headers["content-type"].endswith("wordprocessingml.document")
    assert "现将有关情况通报如下：" in "".join(
        p.text for p in docx.Document(io.BytesIO(word.content)).paragraphs
    )


def test_as_of_given_as_a_date_is_the_end_of_that_day(client, september: September) -> None:
    headers = september.directory.auth("supervisor_a")
    by_date = client.get(
        "/api/v1/notices/2026-09", params={"as_of": "2026-10-09", "format": "json"}, headers=headers
    ).json()
    assert by_date["as_of"] == "2026-10-09T23:59:59.999999+08:00"
    assert "（数据截至2026年10月9日）" in by_date["opening"]


def test_pdf_without_libreoffice_is_a_422_naming_what_to_install(
    client, september: September, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pdf, "soffice_path", lambda: None)
    response = client.get(
        "/api/v1/notices/2026-09",
        params={"format": "pdf"},
        headers={**september.directory.auth("admin"), "Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "pdf_renderer_missing"
    assert "libreoffice-writer-nogui" in response.json()["detail"]


def test_notices_are_refused_outside_the_callers_reach(client, september: September) -> None:
    d = september.directory
    assert client.get("/api/v1/notices/2026-09", headers=d.auth("handler_a1")).status_code == 403
    assert client.get("/api/v1/notices/2026-09").status_code == 401
    other = client.get(
        "/api/v1/notices/2026-09", params={"unit_id": d.city_b}, headers=d.auth("supervisor_a")
    )
    assert other.status_code == 404
    bad_format = client.get(
        "/api/v1/notices/2026-09", params={"format": "odt"}, headers=d.auth("admin")
    )
    assert bad_format.status_code == 422
    bad_period = client.get("/api/v1/notices/2026-9-1", headers=d.auth("admin"))
    assert bad_period.status_code == 422


@pytest.mark.parametrize("notice_format", [f for f in NoticeFormat if f != NoticeFormat.pdf])
def test_no_citizen_detail_reaches_a_notice(
    session: Session, settings: Settings, september: September, notice_format: NoticeFormat
) -> None:
    stats = statistics(
        session=session, period=parse_period("2026"), as_of=AS_OF, scope=None, settings=settings
    )
    rendered = render_notice(stats, notice_format)
    if notice_format in (NoticeFormat.xlsx, NoticeFormat.docx):
        with zipfile.ZipFile(io.BytesIO(rendered.content)) as archive:
            text = "".join(
                archive.read(name).decode("utf-8")
                for name in archive.namelist()
                if name.endswith((".xml", ".rels"))
            )
    else:
        text = rendered.content.decode("utf-8-sig")
    assert stats.totals.received == 9
    for detail in [*CITIZEN.values(), "5678", "页面上有错别字", "jyj.jia.example.gov.cn"]:
        assert detail not in text
    if notice_format == NoticeFormat.json:
        assert json.loads(text)["scope_unit_name"] is None
