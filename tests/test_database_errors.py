"""What a failed submission leaves in the log: never the citizen's contact nor the tracking code.

The app is served by uvicorn on a loopback port and its log is read as an operator reads it:
every record that reaches the root logger (caplog), tracebacks included, and the process's
own output.
"""

import logging
import re

import httpx
import pytest
from sqlalchemy import Engine, event

from app.reports.service import TRACKING_ALPHABET, TRACKING_LENGTH
from tests.conftest import Directory
from tests.live_server import serving

CITIZEN = {"name": "欧阳明远", "phone": "13912345678", "email": "ouyang.mingyuan@example.com"}
TRACKING_CODE = re.compile(f"[{TRACKING_ALPHABET}]{{{TRACKING_LENGTH}}}")


def _missing_table(statement: str, parameters):
    return statement.replace("INSERT INTO report (", "INSERT INTO report_gone ("), parameters


def _null_receipt_instant(statement: str, parameters):
    # PostgreSQL answers with the whole failing row in its DETAIL, contact details included.
    if isinstance(parameters, dict) and "received_at" in parameters:
        parameters = {**parameters, "received_at": None}
    return statement, parameters


@pytest.mark.parametrize("failure", [_missing_table, _null_receipt_instant])
def test_a_database_error_on_submission_logs_no_contact_details(
    app, engine, directory: Directory, caplog, capfd, failure
):
    if failure is _null_receipt_instant and engine.dialect.name != "postgresql":
        pytest.skip("SQLite's NOT NULL message names the column only")
    tracking_codes: list[str] = []

    def break_the_insert(_conn, _cursor, statement, parameters, _context, _executemany):
        if not statement.startswith("INSERT INTO report ("):
            return statement, parameters
        tracking_codes.extend(TRACKING_CODE.findall(str(parameters)))
        return failure(statement, parameters)

    # On every engine: on PostgreSQL the submission runs on the loop engine that the app makes
    # when it starts, not on this one.
    event.listen(Engine, "before_cursor_execute", break_the_insert, retval=True)
    try:
        with caplog.at_level(logging.DEBUG), serving(app) as base_url:
            response = httpx.post(
                f"{base_url}/api/v1/reports",
                json={
                    "site_code": directory.site_a1,
                    "page_url": "https://jyj.jia.example.gov.cn/a.html",
                    "category": 4,
                    "description": "标题里的错别字",
                    **CITIZEN,
                },
                headers={"Accept-Language": "en"},
            )
    finally:
        event.remove(Engine, "before_cursor_execute", break_the_insert)

    assert response.status_code == 500
    assert response.json() == {
        "detail": "the server could not read or store the data; please try again later",
        "code": "database_error",
    }
    assert len(tracking_codes) == 1
    captured = capfd.readouterr()
    logged = caplog.text + captured.out + captured.err
    # The operator still learns where and what failed.
    assert "database error in POST /api/v1/reports" in caplog.text
    assert "INSERT INTO report" in caplog.text
    for secret in [*CITIZEN.values(), tracking_codes[0]]:
        assert secret not in logged
