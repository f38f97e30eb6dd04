"""JSON log lines from a real server: a request id on each line of a request, one time zone,
and never a citizen's contact details or a full tracking code (uvicorn's access log included)."""

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest

from app.logs import JsonFormatter, mask_tracking_codes
from tests.conftest import Directory
from tests.live_server import serving

CITIZEN = {"name": "欧阳明远", "phone": "13912345678", "email": "ouyang.mingyuan@example.com"}
REPORT = {
    "site_code": "9901000002",
    "page_url": "http://jyj.jia.example.gov.cn/xxgk/2026/11/t20261120_1.html",
    "category": 4,
    "description": "第二段“教育局”误写为“教肓局”。",
    **CITIZEN,
}
NOTICE_2027 = {
    "source": "国务院办公厅关于2027年部分节假日安排的通知",
    "holidays": [{"name": "元旦", "start": "2027-01-01", "end": "2027-01-03"}],
    "makeup_workdays": [],
}


class Served:
    def __init__(self, url: str, output: io.StringIO) -> None:
        self.url = url
        self._output = output

    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self._output.getvalue().splitlines()]

    def text(self) -> str:
        return self._output.getvalue()


@pytest.fixture
def served(app) -> Iterator[Served]:
    """The app behind a real uvicorn on a free port, its log lines as JSON in a buffer."""
    output = io.StringIO()
    handler = logging.StreamHandler(output)
    handler.setFormatter(JsonFormatter("Asia/Shanghai"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        with serving(app) as url:
            yield Served(url, output)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_a_submission_and_its_reading_leave_no_contact_details_nor_tracking_code(
    served: Served, directory: Directory
):
    with httpx.Client(base_url=served.url) as http:
        submitted = http.post("/api/v1/reports", json=REPORT, headers={"X-Request-ID": "rq-42"})
        code = submitted.json()["tracking_code"]
        read = http.get(f"/api/v1/reports/{code.lower()}")
        missing = http.get("/api/v1/reports/ABCDEFGHJKMNPQRS")

    assert submitted.status_code == 201 and read.status_code == 200
    assert submitted.headers["X-Request-ID"] == "rq-42"
    access = [line for line in served.lines() if line["logger"] == "uvicorn.access"]
    assert [(line["method"], line["path"], line["status"]) for line in access] == [
        ("POST", "/api/v1/reports", 201),
        ("GET", f"/api/v1/reports/{code[:4].lower()}************", 200),
        ("GET", "/api/v1/reports/ABCD************", 404),
    ]
    assert [line["request_id"] for line in access] == [
        "rq-42",
        read.headers["X-Request-ID"],
        missing.headers["X-Request-ID"],
    ]
    assert all(line["time"].endswith("+08:00") for line in served.lines())
    text = served.text()
    for secret in (code, code.lower(), *CITIZEN.values(), "ABCDEFGHJKMNPQRS"):
        assert secret not in text


def test_every_line_of_a_request_carries_its_id(served: Served, directory: Directory):
    with httpx.Client(base_url=served.url) as http:
        loaded = http.put(
            "/api/v1/calendar/2027",
            json=NOTICE_2027,
            headers={**directory.auth("admin"), "X-Request-ID": "not sane " + "x" * 200},
        )

    assert loaded.status_code == 200, loaded.text
    # An id that is not sane (spaces, too long) is replaced by one of ours.
    made = loaded.headers["X-Request-ID"]
    assert len(made) == 32 and int(made, 16) >= 0
    lines = served.lines()
    calendar = [line for line in lines if line["message"].startswith("calendar 2027 loaded")]
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    assert len(calendar) == 1 and len(access) == 1
    assert calendar[0]["request_id"] == access[0]["request_id"] == made
    assert calendar[0]["level"] == "INFO" and calendar[0]["logger"] == "app.workdays.service"


def test_tracking_codes_are_masked_wherever_they_appear():
    assert mask_tracking_codes("/api/v1/reports/7KQ4ZP2WMX9RTB3N/supplement?x=1") == (
        "/api/v1/reports/7KQ4************/supplement?x=1"
    )
    # Only a whole 16-character run of the code alphabet: ids and longer tokens stay.
    assert mask_tracking_codes("report 123456 token zc_7KQ4ZP2WMX9RTB3NX") == (
        "report 123456 token zc_7KQ4ZP2WMX9RTB3NX"
    )
