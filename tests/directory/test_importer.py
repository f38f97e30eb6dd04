"""`zhaocuo import sites`: the plain directory CSV, the real reports export, the command."""

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session, select
from typer.testing import CliRunner

import app.config
import app.db
from app.cli import cli
from app.directory.importer import ImportFailed, SkippedRow, import_sites, parse_directory_csv
from app.directory.models import Site, SiteHost, Unit
from app.reports.models import Report, ReportEvent
from tests.conftest import DATA_CSV, Directory, local, requires_data, submit_report

DOCS_CSV = Path(__file__).resolve().parents[2] / "docs" / "sites-csv.md"
PLAIN_HEADER = "site_code,name,host,owner_unit,parent_unit\n"
REPORTS_HEADER = [
    "id", "site_code", "site_name", "problem_type", "status", "not_handle_type", "error_url",
    "description", "handling_unit", "created_date", "replied_date", "reply", "reject_reason",
]  # fmt: skip

FIRST_FILE = PLAIN_HEADER + (
    "9902000001,丙市人民政府门户网站,www.bing.example.gov.cn;Bing.Example.gov.cn.,"
    "丙市人民政府办公室,测试省政府办公厅\n"
    "9902000002,丙市教育局网站,jyj.bing.example.gov.cn,丙市教育局,丙市人民政府办公室\n"
    "bm07000001,示例部网站,,示例部办公厅,\n"
    "99BM000100,丙市政务服务网,zwfw.bing.example.gov.cn:8443,丙市人民政府办公室,\n"
)
FIRST_STATE = (
    {
        "测试省政府办公厅": None,
        "丙市人民政府办公室": "测试省政府办公厅",
        "丙市教育局": "丙市人民政府办公室",
        "示例部办公厅": None,
    },
    {
        "9902000001": (
            "丙市人民政府门户网站",
            "丙市人民政府办公室",
            ["bing.example.gov.cn", "www.bing.example.gov.cn"],
        ),
        "9902000002": ("丙市教育局网站", "丙市教育局", ["jyj.bing.example.gov.cn"]),
        "bm07000001": ("示例部网站", "示例部办公厅", []),
        "99BM000100": ("丙市政务服务网", "丙市人民政府办公室", ["zwfw.bing.example.gov.cn"]),
    },
)


def write(tmp_path: Path, text: str, name: str = "sites.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def directory_state(session: Session) -> tuple[dict, dict]:
    """Units (name → parent name) and sites (code → name, owner name, hosts) as stored."""
    units = session.exec(select(Unit)).all()
    name_of = {unit.id: unit.name for unit in units}
    hosts: dict[int, list[str]] = defaultdict(list)
    for site_host in session.exec(select(SiteHost).order_by(SiteHost.host)).all():
        hosts[site_host.site_id].append(site_host.host)
    sites = {
        site.site_code: (site.name, name_of[site.owner_unit_id], hosts[site.id])
        for site in session.exec(select(Site)).all()
    }
    return {unit.name: name_of.get(unit.parent_id) for unit in units}, sites


def counts(result) -> tuple[int, int, int, int, int]:
    return (
        result.units_created,
        result.units_updated,
        result.sites_created,
        result.sites_updated,
        result.rows_skipped,
    )


# --- the plain directory CSV ----------------------------------------------------------


def test_plain_file_creates_units_parents_sites_and_hosts(session: Session, tmp_path: Path):
    result = import_sites(session=session, path=write(tmp_path, FIRST_FILE))
    session.commit()

    assert result.format == "plain"
    assert result.rows_read == 4
    assert counts(result) == (4, 0, 4, 0, 0)
    assert directory_state(session) == FIRST_STATE


def test_second_run_of_the_same_file_changes_nothing(session: Session, tmp_path: Path):
    path = write(tmp_path, FIRST_FILE)
    import_sites(session=session, path=path)
    session.commit()
    stamps = {s.site_code: s.updated_at for s in session.exec(select(Site)).all()}

    again = import_sites(session=session, path=path)
    session.commit()

    assert counts(again) == (0, 0, 0, 0, 0)
    assert directory_state(session) == FIRST_STATE
    assert {s.site_code: s.updated_at for s in session.exec(select(Site)).all()} == stamps


def test_changed_names_owners_hosts_and_parents_are_updated(session: Session, tmp_path: Path):
    import_sites(session=session, path=write(tmp_path, FIRST_FILE))
    session.commit()
    changed = PLAIN_HEADER + (
        # loses bing.example.gov.cn to the next site; empty parent_unit keeps its parent
        "9902000001,丙市人民政府门户网站,www.bing.example.gov.cn,丙市人民政府办公室,\n"
        # renamed, gains that host but loses its own, and its owner unit moves under the province
        "9902000002,丙市教育局网站（新版）,bing.example.gov.cn,丙市教育局,测试省政府办公厅\n"
        # a new owner unit, created under the old owner
        "bm07000001,示例部网站,,示例部信息中心,示例部办公厅\n"
    )
    result = import_sites(session=session, path=write(tmp_path, changed, "changed.csv"))
    session.commit()

    assert counts(result) == (1, 1, 0, 3, 0)
    units, sites = directory_state(session)
    assert units == {
        "测试省政府办公厅": None,
        "丙市人民政府办公室": "测试省政府办公厅",
        "丙市教育局": "测试省政府办公厅",
        "示例部办公厅": None,
        "示例部信息中心": "示例部办公厅",
    }
    assert sites == {
        "9902000001": ("丙市人民政府门户网站", "丙市人民政府办公室", ["www.bing.example.gov.cn"]),
        "9902000002": ("丙市教育局网站（新版）", "丙市教育局", ["bing.example.gov.cn"]),
        "bm07000001": ("示例部网站", "示例部信息中心", []),
        # not in the second file: left exactly as it was
        "99BM000100": ("丙市政务服务网", "丙市人民政府办公室", ["zwfw.bing.example.gov.cn"]),
    }


def test_a_site_is_placed_into_an_existing_tree(
    session: Session, directory: Directory, tmp_path: Path
):
    text = PLAIN_HEADER + (
        "9901000077,甲市卫健委网站,wjw.jia.example.gov.cn,甲市卫生健康委员会,甲市人民政府办公室\n"
    )
    result = import_sites(session=session, path=write(tmp_path, text))
    session.commit()

    assert counts(result) == (1, 0, 1, 0, 0)
    units, sites = directory_state(session)
    assert units["甲市卫生健康委员会"] == "甲市人民政府办公室"
    assert sites["9901000077"] == (
        "甲市卫健委网站",
        "甲市卫生健康委员会",
        ["wjw.jia.example.gov.cn"],
    )


GOOD_ROWS = PLAIN_HEADER + (
    "9902000001,丙市人民政府门户网站,www.bing.example.gov.cn,丙市人民政府办公室,测试省政府办公厅\n"
    "9902000002,丙市教育局网站,jyj.bing.example.gov.cn,丙市教育局,丙市人民政府办公室\n"
)
NOT_A_SITE_CODE = "is not a site code: a site code (网站标识码) looks like 6108000003"


def chinese_line_prefix(english: str) -> str:
    """The Chinese message names the same line: "line 4: …" there is "第 4 行" here."""
    return "第 {} 行".format(re.match(r"line (\d+)", english).group(1))


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        ("A1234,丙市财政局网站,,丙市财政局,\n", f"line 4: 'A1234' {NOT_A_SITE_CODE}"),
        ("61080000031,丙市财政局网站,,丙市财政局,\n", f"line 4: '61080000031' {NOT_A_SITE_CODE}"),
        ("bm0700001,丙市财政局网站,,丙市财政局,\n", f"line 4: 'bm0700001' {NOT_A_SITE_CODE}"),
        (",丙市财政局网站,,丙市财政局,\n", "line 4: site_code is empty"),
        ("9902000003,,,丙市财政局,\n", "line 4: name is empty"),
        ("9902000003,丙市财政局网站,,,\n", "line 4: owner_unit is empty"),
        (
            "9902000003,丙市财政局网站,,丙市财政局\n",
            "line 4: expected 5 fields as in the header, found 4",
        ),
        (
            "9902000003,丙市财政局网站,,丙,\n",
            "line 4: owner_unit must be 2 to 200 characters long (it has 1)",
        ),
        (
            f"9902000003,{'网' * 201},,丙市财政局,\n",
            "line 4: name must be at most 200 characters long (it has 201)",
        ),
        (
            "9902000001,丙市财政局网站,,丙市财政局,\n",
            "line 4: site 9902000001 is already given on line 2",
        ),
        (
            "9902000003,丙市财政局网站,czj.bing.example.gov.cn;czj bing,丙市财政局,\n",
            "line 4: 'czj bing' is not a host name such as www.example.gov.cn",
        ),
        (
            "9902000003,丙市财政局网站,JYJ.bing.example.gov.cn,丙市财政局,\n",
            "line 4: host jyj.bing.example.gov.cn is already given to site 9902000002 on line 3",
        ),
        (
            "9902000003,丙市财政局网站,,丙市教育局,测试省政府办公厅\n",
            "line 4: unit '丙市教育局' is placed under '测试省政府办公厅' here but under "
            "'丙市人民政府办公室' on line 3",
        ),
        (
            "9902000003,丙市财政局网站,,丙市财政局,丙市财政局\n",
            "line 4: unit '丙市财政局' cannot be its own parent_unit",
        ),
        (
            # the province under a unit it supervises through two rows of this file
            "9900000001,测试省门户网站,,测试省政府办公厅,丙市教育局\n",
            "line 4: placing '测试省政府办公厅' under '丙市教育局' would put a unit under a unit "
            "it supervises",
        ),
        (
            # ... and through the units already in the database
            "9900000002,测试省人民政府门户网站,,测试省人民政府办公厅,甲市教育局\n",
            "line 4: placing '测试省人民政府办公厅' under '甲市教育局' would put a unit under a "
            "unit it supervises",
        ),
        (
            "9902000003,丙市财政局网站,jyj.jia.example.gov.cn,丙市财政局,\n",
            "line 4: host jyj.jia.example.gov.cn belongs to site 9901000002, which this file "
            "does not list; take it off that site first",
        ),
    ],
)
def test_a_bad_row_rejects_the_whole_file(
    session: Session, directory: Directory, tmp_path: Path, bad_row: str, message: str
):
    before = directory_state(session)

    with pytest.raises(ImportFailed) as failure:
        import_sites(session=session, path=write(tmp_path, GOOD_ROWS + bad_row))
    session.rollback()

    assert failure.value.status_code == 422
    assert failure.value.message_en.startswith(message)
    assert failure.value.message.startswith(chinese_line_prefix(message))
    assert directory_state(session) == before
    assert "丙市人民政府办公室" not in directory_state(session)[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "line 1: the file is empty"),
        ("\n\n", "line 1: the file is empty"),
        ("code,name,host,owner\n9902000001,x,,丙市教育局\n", "line 1: unknown format: the header"),
        (
            "\nsite_code,name,hosts,owner_unit\n9902000001,x,,丙市教育局\n",
            "line 2: unknown format: the header",
        ),
        (
            "site_code,name,host,owner_unit,owner_unit\n9902000001,x,,丙市教育局,丙市教育局\n",
            "line 1: unknown format: the header",
        ),
    ],
)
def test_unknown_or_empty_files_are_refused(text: str, message: str):
    with pytest.raises(ImportFailed) as failure:
        parse_directory_csv(text)
    assert failure.value.message_en.startswith(message)
    assert failure.value.message.startswith(chinese_line_prefix(message))


def test_files_that_are_not_utf8_are_refused_at_the_first_bad_line(
    session: Session, tmp_path: Path
):
    path = tmp_path / "gbk.csv"
    path.write_bytes(
        (
            PLAIN_HEADER + "9902000001,ascii site,,ascii unit,\n9902000002,丙市网站,,丙市教育局,\n"
        ).encode("gbk")
    )
    with pytest.raises(ImportFailed) as failure:
        import_sites(session=session, path=path)
    assert (
        failure.value.message == "第 3 行：文件不是 UTF-8 文本，请另存为“CSV UTF-8”格式后重新导入"
    )
    assert failure.value.message_en == 'line 3: the file is not UTF-8 text; save it as "CSV UTF-8"'


def test_byte_order_mark_blank_lines_column_order_and_no_parent_column_are_accepted():
    text = "\ufeffowner_unit,site_code,host,name\n\n丙市教育局, 9902000002 ,,丙市教育局网站\n\n"
    parsed = parse_directory_csv(text)

    assert parsed.format == "plain"
    assert parsed.rows_read == 1
    assert [(s.line, s.site_code, s.name, s.owner_unit, s.hosts) for s in parsed.sites] == [
        (3, "9902000002", "丙市教育局网站", "丙市教育局", ())
    ]
    assert parsed.parents == []


# --- the platform's reports export ----------------------------------------------------


def reports_csv(rows: list[dict[str, str]]) -> str:
    """A file in the reports export's format, the fields not given filled in plausibly."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=REPORTS_HEADER, lineterminator="\n")
    writer.writeheader()
    for number, row in enumerate(rows, start=1):
        writer.writerow(
            {
                "id": str(number),
                "problem_type": "4",
                "status": "1",
                "not_handle_type": "0",
                "description": "网页上有错别字",
                "replied_date": row["created_date"],
                "reply": "已改正",
                "reject_reason": "",
            }
            | row
        )
    return buffer.getvalue()


def report(code: str, name: str, unit: str, url: str, created: str, **more: str) -> dict:
    return {
        "site_code": code,
        "site_name": name,
        "handling_unit": unit,
        "error_url": url,
        "created_date": created,
    } | more


SAMPLE_REPORTS = [
    # lines 2-4: 单位一 answers twice, 单位二 once; the name seen twice wins
    report("1100000001", "甲网站", "单位一", "http://www.a.example.gov.cn/x", "2023-08-01"),
    report("1100000001", "甲网站", "单位二", "http://www.a.example.gov.cn/y", "2023-09-01"),
    report("1100000001", "甲网站（旧）", "单位一", "https://A.example.gov.cn:8080/z", "2023-07-01"),
    # lines 5-7 (the first description takes two lines): one report each, so the one on the
    # latest created_date wins although it comes first
    report(
        "1100000002",
        "乙网站（新）",
        "单位四",
        "http://www.b.example.gov.cn/",
        "2023-09-01",
        description="第一行\n第二行",
    ),
    report("1100000002", "乙网站", "单位三", "http://www.b.example.gov.cn/", "2023-08-01"),
    # lines 8-9: same count, same date: the row further down the file wins;
    # www.a.example.gov.cn stays with 1100000001, which has more reports on it
    report("1100000003", "丙网站", "单位五", "http://www.a.example.gov.cn/", "2023-08-01"),
    report("1100000003", "丙网站", "单位六", "http:/c.example.gov.cn/", "2023-08-01"),
    # line 10: no site code
    report("", "丁网站", "单位七", "http://www.d.example.gov.cn/", "2023-08-01"),
    # lines 11-12: one report each on a shared host: the later created_date takes it
    report("1100000004", "戊网站", "单位八", "https://shared.example.gov.cn/1", "2023-08-02"),
    report("1100000005", "己网站", "单位八", "https://shared.example.gov.cn/2", "2023-08-01"),
    # lines 13-14: addresses without a usable host name are ignored, not errors
    report("1100000005", "己网站", "单位八", "http://218.28.223.8/", "2023-08-01"),
    report("1100000005", "己网站", "单位八", "localhost", "2023-08-01"),
]


def test_reports_export_yields_one_site_per_code_by_majority():
    parsed = parse_directory_csv(reports_csv(SAMPLE_REPORTS))

    assert parsed.format == "reports"
    assert parsed.rows_read == 12
    assert parsed.skipped == [SkippedRow(line=10, reason="no site code")]
    assert parsed.parents == []
    assert parsed.hosts_are_inferred is True
    assert parsed.units == ["单位一", "单位二", "单位四", "单位三", "单位五", "单位六", "单位八"]
    assert {s.site_code: (s.name, s.owner_unit, s.hosts) for s in parsed.sites} == {
        "1100000001": ("甲网站", "单位一", ("a.example.gov.cn", "www.a.example.gov.cn")),
        "1100000002": ("乙网站（新）", "单位四", ("www.b.example.gov.cn",)),
        "1100000003": ("丙网站", "单位六", ()),
        "1100000004": ("戊网站", "单位八", ("shared.example.gov.cn",)),
        "1100000005": ("己网站", "单位八", ()),
    }


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (report("11000000", "乙网站", "单位三", "http://b.example.gov.cn/", "2023-08-01"),
         f"line 7: '11000000' {NOT_A_SITE_CODE}"),
        (report("1100000002", "", "单位三", "http://b.example.gov.cn/", "2023-08-01"),
         "line 7: site_name is empty"),
        (report("1100000002", "乙网站", "", "http://b.example.gov.cn/", "2023-08-01"),
         "line 7: handling_unit is empty"),
        (report("1100000002", "乙网站", "单位三", "http://b.example.gov.cn/", "2023/08/01"),
         "line 7: created_date '2023/08/01' is not a date such as 2023-09-22"),
        (report("1100000002", "乙网站", "单" * 201, "http://b.example.gov.cn/", "2023-08-01"),
         "line 7: handling_unit must be 2 to 200 characters long (it has 201)"),
    ],
)  # fmt: skip
def test_a_bad_report_row_rejects_the_file(bad: dict, message: str):
    # the fourth row takes lines 5-6, so the bad row is on line 7
    rows = [*SAMPLE_REPORTS[:3], SAMPLE_REPORTS[3], bad]
    with pytest.raises(ImportFailed) as failure:
        parse_directory_csv(reports_csv(rows))
    assert failure.value.message_en.startswith(message)
    assert failure.value.message.startswith(chinese_line_prefix(message))


def test_inferred_hosts_already_held_by_other_sites_stay_there(
    session: Session, directory: Directory, tmp_path: Path
):
    rows = [
        report("1100000001", "甲网站", "单位一", f"http://{directory.host_a1}/a", "2023-08-01"),
        report("1100000001", "甲网站", "单位一", "http://www.a.example.gov.cn/", "2023-08-01"),
    ]
    result = import_sites(session=session, path=write(tmp_path, reports_csv(rows)))
    session.commit()

    assert result.hosts_left_elsewhere == 1
    sites = directory_state(session)[1]
    assert sites[directory.site_a1][2] == [directory.host_a1]
    assert sites["1100000001"] == ("甲网站", "单位一", ["www.a.example.gov.cn"])


# --- the real export ------------------------------------------------------------------


def real_expectations() -> dict:
    """What the import should make of the real file, worked out here with the csv module."""
    with DATA_CSV.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = []
        skipped_lines = []
        start = reader.line_num + 1
        for row in reader:
            if row["site_code"] == "":
                skipped_lines.append(start)
            else:
                rows.append(row)
            start = reader.line_num + 1

    def most_frequent(pairs: list[tuple[str, str, int]]) -> str:
        # (value, created_date, position): most rows, then latest date, then last position
        tally: dict[str, list] = {}
        for value, created, position in pairs:
            count, latest, _ = tally.get(value, (0, "", 0))
            tally[value] = [count + 1, max(latest, created), position]
        return sorted(tally.items(), key=lambda item: item[1])[-1][0]

    by_code: dict[str, list[tuple[int, dict]]] = defaultdict(list)
    by_host: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    for position, row in enumerate(rows):
        code = row["site_code"]
        by_code[code].append((position, row))
        match = re.match(r"^https?://([^/:?#]+)", row["error_url"].strip(), re.IGNORECASE)
        host = match.group(1).lower().rstrip(".") if match else ""
        labels = host.split(".")
        if (
            len(labels) > 1
            and re.fullmatch(r"[a-z0-9-]{2,63}", labels[-1])
            and all(
                re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", label) for label in labels[:-1]
            )
        ):
            by_host[host].append((code, row["created_date"], position))
    return {
        "skipped_lines": skipped_lines,
        "units": {row["handling_unit"] for row in rows},
        "owners": {
            code: most_frequent([(r["handling_unit"], r["created_date"], p) for p, r in group])
            for code, group in by_code.items()
        },
        "names": {
            code: most_frequent([(r["site_name"].strip(), r["created_date"], p) for p, r in group])
            for code, group in by_code.items()
        },
        "hosts": {host: most_frequent(claims) for host, claims in by_host.items()},
    }


@pytest.fixture(scope="module")
def real() -> dict:
    return real_expectations()


@requires_data()
def test_real_reports_export_imports_cleanly_and_exactly(
    session: Session, engine: Engine, real: dict
):
    statements: list[str] = []

    def count_statement(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count_statement)
    try:
        result = import_sites(session=session, path=DATA_CSV)
    finally:
        event.remove(engine, "before_cursor_execute", count_statement)
    session.commit()

    assert (result.format, result.rows_read) == ("reports", 10169)
    assert counts(result) == (len(real["units"]), 0, len(real["owners"]), 0, 7)
    assert len(real["owners"]) == 3824
    assert [s.line for s in result.skipped] == real["skipped_lines"]
    # Batched: a few statements per table, not one per row (there are ~12,000 rows to write).
    assert len(statements) <= 30

    units, sites = directory_state(session)
    assert set(units) == real["units"]
    assert set(units.values()) == {None}
    assert {code: owner for code, (_, owner, _) in sites.items()} == real["owners"]
    assert {code: name for code, (name, _, _) in sites.items()} == real["names"]
    assert {host: code for code, (_, _, hosts) in sites.items() for host in hosts} == real["hosts"]

    again = import_sites(session=session, path=DATA_CSV)
    session.commit()
    assert counts(again) == (0, 0, 0, 0, 7)


@requires_data()
def test_reports_to_imported_real_sites_reach_their_owner_unit(
    session: Session, client, real: dict
):
    import_sites(session=session, path=DATA_CSV)
    session.commit()

    by_code = submit_report(client, site_code="bm70000001", page_url="http://www.caac.gov.cn/XXGK/")
    assert by_code["status"] == "assigned"
    assert by_code["owner_unit_name"] == real["owners"]["bm70000001"]

    host = min(real["hosts"])
    by_host = submit_report(client, site_code=None, page_url=f"https://{host}/index.html")
    assert by_host["owner_unit_name"] == real["owners"][real["hosts"][host]]


def test_reports_to_imported_sites_reach_their_owner_unit(session: Session, client, tmp_path: Path):
    import_sites(session=session, path=write(tmp_path, FIRST_FILE))
    session.commit()

    by_code = submit_report(
        client, site_code="9902000002", page_url="https://jyj.bing.example.gov.cn/a"
    )
    by_host = submit_report(client, site_code=None, page_url="https://bing.example.gov.cn/b.html")
    by_port = submit_report(
        client, site_code=None, page_url="https://zwfw.bing.example.gov.cn:8443/c"
    )
    unknown = submit_report(client, site_code=None, page_url="https://elsewhere.example.gov.cn/")

    assert (by_code["status"], by_code["owner_unit_name"]) == ("assigned", "丙市教育局")
    assert (by_host["status"], by_host["owner_unit_name"]) == ("assigned", "丙市人民政府办公室")
    assert (by_port["status"], by_port["owner_unit_name"]) == ("assigned", "丙市人民政府办公室")
    assert (unknown["status"], unknown["owner_unit_name"]) == ("unrouted", None)


# --- the command ----------------------------------------------------------------------


@pytest.fixture
def command_database(database_url: str, engine: Engine, monkeypatch) -> Iterator[None]:
    """Point the `zhaocuo` command at the test database."""
    monkeypatch.setenv("ZHAOCUO_DATABASE_URL", database_url)
    app.config.get_settings.cache_clear()
    app.db.get_engine.cache_clear()
    yield
    if app.db.get_engine.cache_info().currsize:
        app.db.get_engine().dispose()
    app.db.get_engine.cache_clear()
    app.config.get_settings.cache_clear()


def run(*args: str):
    return CliRunner().invoke(cli, ["import", "sites", *args])


def test_command_imports_then_finds_nothing_new(
    command_database: None, session: Session, tmp_path: Path
):
    path = write(tmp_path, FIRST_FILE)

    first = run(str(path))
    second = run(str(path))

    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines() == [
        "read 4 rows as directory CSV (site_code,name,host,owner_unit,parent_unit)",
        "units created: 4",
        "units updated: 0",
        "sites created: 4",
        "sites updated: 0",
        "routed 0 waiting reports",
        "rows skipped: 0",
    ]
    assert second.exit_code == 0, second.output
    assert second.stdout.splitlines()[1:] == [
        "units created: 0",
        "units updated: 0",
        "sites created: 0",
        "sites updated: 0",
        "routed 0 waiting reports",
        "rows skipped: 0",
    ]
    assert directory_state(session) == FIRST_STATE


def test_command_routes_the_reports_waiting_for_the_sites_it_creates(
    command_database: None, client, engine: Engine, tmp_path: Path, monkeypatch
):
    # Submitted before the file names their sites: one by its site code, one by its host
    # (the www. twin of a listed host), one of a site the file does not list.
    by_code = submit_report(
        client, at=local(2026, 11, 23, 10, 0), site_code="9902000002",
        page_url="https://x.example.org/a.html",
    )  # fmt: skip
    by_host = submit_report(
        client, site_code=None, page_url="https://www.zwfw.bing.example.gov.cn/b.html"
    )
    other = submit_report(client, site_code=None, page_url="https://elsewhere.example.org/c.html")
    assert {r["status"] for r in (by_code, by_host, other)} == {"unrouted"}
    # Imported on Tuesday 24 November 2026 at 09:00.
    monkeypatch.setattr("app.directory.importer.utcnow", lambda: local(2026, 11, 24, 9, 0))

    first = run(str(write(tmp_path, FIRST_FILE)))
    again = run(str(write(tmp_path, FIRST_FILE)))

    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines()[4:6] == ["sites updated: 0", "routed 2 waiting reports"]
    assert again.stdout.splitlines()[4:6] == ["sites updated: 0", "routed 0 waiting reports"]
    with Session(engine) as session:
        rows = {r.tracking_code: r for r in session.exec(select(Report)).all()}
        owner = {u.name: u.id for u in session.exec(select(Unit)).all()}
        site = {s.site_code: s.id for s in session.exec(select(Site)).all()}
        routed = {
            e.report_id: e
            for e in session.exec(select(ReportEvent).where(ReportEvent.kind == "routed")).all()
        }
    for receipt, code, unit in [
        (by_code, "9902000002", "丙市教育局"),
        (by_host, "99BM000100", "丙市人民政府办公室"),
    ]:
        report = rows[receipt["tracking_code"]]
        assert (report.status, report.owner_unit_id, report.site_id, report.site_code) == (
            "assigned",
            owner[unit],
            site[code],
            code,
        )
        # A clock from the import: first reply due Thursday 26 November, resolution Tuesday
        # 15 December.
        assert report.assigned_at == local(2026, 11, 24, 9, 0)
        assert report.first_reply_due_at == local(2026, 11, 26, 23, 59, 59, 999000)
        assert report.resolution_due_at == local(2026, 12, 15, 23, 59, 59, 999000)
        event = routed[report.id]
        assert (event.actor, event.at) == ("system", local(2026, 11, 24, 9, 0))
        assert event.data == {
            "to_unit_id": owner[unit],
            "site_id": site[code],
            "reason": "site_created",
        }
    assert rows[other["tracking_code"]].status == "unrouted"
    assert len(routed) == 2


def test_a_rejected_file_routes_nothing(
    command_database: None, client, engine: Engine, tmp_path: Path
):
    waiting = submit_report(client, site_code="9902000003", page_url="https://x.example.org/")
    bad = GOOD_ROWS + "9902000003,丙市财政局网站,,丙市财政局,\n" + "99020000x4,丁,,丙市财政局,\n"

    result = run(str(write(tmp_path, bad)))

    assert result.exit_code == 1
    with Session(engine) as session:
        report = session.exec(
            select(Report).where(Report.tracking_code == waiting["tracking_code"])
        ).one()
    assert (report.status, report.owner_unit_id) == ("unrouted", None)


def test_command_rejects_a_bad_file_with_exit_code_1_and_changes_nothing(
    command_database: None, session: Session, directory: Directory, tmp_path: Path
):
    before = directory_state(session)
    bad = GOOD_ROWS + "9902000003,丙市财政局网站,,丙市财政局,\n" + "99020000x4,丁,,丙市财政局,\n"

    result = run(str(write(tmp_path, bad)))

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(
        f"import rejected, nothing was changed: line 5: '99020000x4' {NOT_A_SITE_CODE}"
    )
    session.expire_all()
    assert directory_state(session) == before


def test_command_reports_progress_and_counts_on_a_large_file(
    command_database: None, session: Session, tmp_path: Path
):
    rows = "".join(
        f"99030{n:05d},第{n}号网站,site{n}.example.gov.cn,第{n % 7}号单位,丁市人民政府办公室\n"
        for n in range(2500)
    )

    result = run(str(write(tmp_path, PLAIN_HEADER + rows)))

    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "  1000 rows read",
        "  2000 rows read",
        "  2500 rows read",
    ]
    assert result.stdout.splitlines()[1:4] == [
        "units created: 8",
        "units updated: 0",
        "sites created: 2500",
    ]
    units, sites = directory_state(session)
    assert len(sites) == 2500
    assert sites["9903001234"] == ("第1234号网站", "第2号单位", ["site1234.example.gov.cn"])
    assert units["第2号单位"] == "丁市人民政府办公室"


def test_command_refuses_a_missing_file(command_database: None, tmp_path: Path):
    result = run(str(tmp_path / "absent.csv"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_the_documented_example_does_what_the_documentation_says(
    command_database: None, tmp_path: Path
):
    text = DOCS_CSV.read_text(encoding="utf-8")
    example = re.search(r"```csv\n(.*?)```", text, re.DOTALL).group(1)
    summary = re.search(r"```\n(read .*?)```", text, re.DOTALL).group(1)

    result = run(str(write(tmp_path, example)))

    assert result.exit_code == 0, result.output
    assert result.stdout == summary


@pytest.mark.parametrize(
    ("row", "column", "character"),
    [
        ("9902000003,丙市\x0b财政局网站,,丙市财政局,\n", "name", "U+000B"),
        ("9902000003,丙市财政局网站,,丙市\x01财政局,\n", "owner_unit", "U+0001"),
        ("9902000003,丙市财政局网站,,丙市财政局,测试\x85省\n", "parent_unit", "U+0085"),
        ('9902000003,"丙市财政局\n网站",,丙市财政局,\n', "name", "U+000A"),
    ],
)
def test_control_characters_reject_the_file_naming_line_and_column(
    session: Session, directory: Directory, tmp_path: Path, row: str, column: str, character: str
):
    before = directory_state(session)

    with pytest.raises(ImportFailed) as failure:
        import_sites(session=session, path=write(tmp_path, GOOD_ROWS + row))
    session.rollback()

    assert failure.value.status_code == 422
    assert failure.value.code == "import_control_character"
    assert failure.value.message_en.startswith(
        f"line 4, column {column}: must not contain control characters ({character}"
    )
    assert failure.value.message.startswith(f"第 4 行 {column} 列含有控制字符")
    assert directory_state(session) == before


def test_control_characters_in_a_reports_export_reject_it():
    row = report(
        "1100000002", "甲市\x1f教育局网站", "甲市教育局", "http://b.example.gov.cn/", "2023-08-01"
    )
    with pytest.raises(ImportFailed) as failure:
        parse_directory_csv(reports_csv([row]))
    assert failure.value.message_en.startswith("line 2, column site_name: must not contain")
