"""`zhaocuo import reports`: the platform's past reports in bulk, as the replay makes them."""

import csv
from datetime import date, time

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from app.config import Settings
from app.errors import Unprocessable
from app.reports.importer import COLUMNS, import_reports
from app.reports.models import Report, ReportEvent
from app.stats.periods import parse_period
from app.stats.service import statistics
from app.workdays.sources import get_calendar
from tests.conftest import DATA_CSV, requires_data
from tests.oracle import OfficialDays
from tests.platform_data import ROWS, at, expected_figures, read_rows


def run_import(engine: Engine, settings: Settings, path) -> object:
    with Session(engine, expire_on_commit=False) as session:
        result = import_reports(
            session=session, path=path, calendar=get_calendar(session), settings=settings
        )
        session.commit()
    return result


def count(engine: Engine, model) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


@requires_data()
def test_the_real_export_imports_once_with_the_replays_figures(engine: Engine, settings: Settings):
    first = run_import(engine, settings, DATA_CSV)
    assert (first.rows_read, first.reports_created, first.already_imported) == (ROWS, ROWS, 0)
    events = count(engine, ReportEvent)

    again = run_import(engine, settings, DATA_CSV)
    assert (again.reports_created, again.already_imported) == (0, ROWS)
    assert (count(engine, Report), count(engine, ReportEvent)) == (ROWS, events)

    rows = read_rows()
    expected = expected_figures(rows, OfficialDays(date(2019, 1, 1), date(2024, 12, 31)))
    as_of = at(max(row["replied_date"] for row in rows), time(23, 0))
    months = sorted({row["created_date"][:7] for row in rows})
    with Session(engine) as session:
        for month in months:
            stats = statistics(
                session=session, period=parse_period(month), as_of=as_of, scope=None,
                settings=settings,
            )  # fmt: skip
            assert stats.totals == expected[month].figures(), month
            assert stats.unrouted == 0


def test_a_bad_row_imports_nothing_from_the_file(engine: Engine, settings: Settings, tmp_path):
    path = tmp_path / "reports.csv"
    good = {
        "id": "1", "site_code": "6108000003", "site_name": "测试市政府网站", "problem_type": "4",
        "status": "1", "not_handle_type": "0", "error_url": "http://www.test.gov.cn/a.html",
        "description": "首页有错别字。", "handling_unit": "测试市人民政府办公室",
        "created_date": "2023-09-04", "replied_date": "2023-09-05", "reply": "已更正。",
        "reject_reason": "",
    }  # fmt: skip
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=[*COLUMNS, "site_name", "not_handle_type",
                                                  "reject_reason"])  # fmt: skip
        writer.writeheader()
        writer.writerow(good)
        writer.writerow(good | {"id": "2", "status": "99"})

    with pytest.raises(Unprocessable) as raised:
        run_import(engine, settings, path)

    assert raised.value.message_en == (
        "line 3: status '99' is none of 1, 22, 13, 20, 19, 12; nothing from the file was imported"
    )
    assert (count(engine, Report), count(engine, ReportEvent)) == (0, 0)
