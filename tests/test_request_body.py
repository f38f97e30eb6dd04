"""JSON bodies over ZHAOCUO_MAX_JSON_BODY_BYTES are refused with 413, unread (issue 9, item 6)."""

import asyncio
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from app.config import Settings
from app.main import create_app
from app.reports.models import Report
from app.request_body import RequestBodyGuard, json_problem
from tests.conftest import Directory

LIMIT = 4096
REPORT = {
    "site_code": "9901000002",
    "page_url": "http://jyj.jia.example.gov.cn/xxgk/2026/11/t20261120_1.html",
    "category": 4,
}


@pytest.fixture
def small_limit_client(database_url: str, engine: Engine, clock) -> Iterator[TestClient]:
    settings = Settings(
        database_url=database_url,
        public_rate_limit="",
        scheduler="off",
        max_json_body_bytes=LIMIT,
    )
    with TestClient(create_app(settings=settings, engine=engine, clock=clock)) as client:
        yield client


def reports(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Report)).one()


def body_of(size: int) -> bytes:
    """A valid submission of exactly `size` bytes, padded inside the description."""
    bare = json.dumps({**REPORT, "description": ""}).encode()
    return json.dumps({**REPORT, "description": "a" * (size - len(bare))}).encode()


def test_a_body_over_the_limit_is_refused_by_its_content_length(
    small_limit_client: TestClient, directory: Directory, engine: Engine
):
    response = small_limit_client.post(
        "/api/v1/reports", content=body_of(LIMIT + 1), headers={"content-type": "application/json"}
    )

    assert response.status_code == 413
    assert response.json() == {
        "detail": f"请求体超过 {LIMIT} 字节，请精简后再提交。",
        "code": "body_too_large",
    }
    assert reports(engine) == 0


def test_a_streamed_body_is_counted_and_refused_once_over_the_limit(
    small_limit_client: TestClient, directory: Directory, engine: Engine
):
    def chunked() -> Iterator[bytes]:
        for _ in range(1000):  # 1 MB if read whole
            yield b"x" * 1000

    response = small_limit_client.post(
        "/api/v1/reports",
        content=chunked(),
        headers={"content-type": "application/json", "Accept-Language": "en"},
    )

    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
    assert response.json()["detail"].startswith(f"The request body is larger than {LIMIT} bytes")
    assert reports(engine) == 0


def test_the_guard_stops_reading_a_stream_at_the_limit():
    received = []
    app_called = []
    sent = []

    async def receive():
        received.append(1)
        return {"type": "http.request", "body": b"x" * 1000, "more_body": True}

    async def send(message):
        sent.append(message)

    async def app(scope, receive, send):
        app_called.append(scope)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": [], "query_string": b""}
    guard = RequestBodyGuard(app, max_json_body_bytes=LIMIT)
    asyncio.run(guard(scope, receive, send))

    assert len(received) == 5  # 5000 bytes: the first chunk past 4096, and no more
    assert app_called == []
    assert sent[0]["status"] == 413


def test_a_body_at_the_limit_goes_through(
    small_limit_client: TestClient, directory: Directory, engine: Engine
):
    body = body_of(LIMIT)
    # Over the 2000 characters a description may have: refused by validation, not by size.
    response = small_limit_client.post(
        "/api/v1/reports", content=body, headers={"content-type": "application/json"}
    )

    assert len(body) == LIMIT
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "description"]


def test_the_default_limit_is_64_kib(client: TestClient, directory: Directory):
    assert client.app.state.settings.max_json_body_bytes == 65536
    too_big = client.post("/api/v1/units", content=b"{" + b" " * 65536 + b"}")
    assert too_big.status_code == 413


def test_multipart_bodies_are_left_to_their_own_limit(small_limit_client: TestClient):
    response = small_limit_client.post(
        "/api/v1/reports", files={"screenshot": ("a.png", b"\x89PNG" + b"0" * 2 * LIMIT)}
    )

    assert response.status_code == 422  # not a JSON submission, but not refused for its size


@pytest.mark.parametrize(
    ("text", "strict"),
    [
        ('{"a": 1.5, "b": [1e308, -2]}', True),
        ('{"a": "\\ud83d\\ude00"}', True),  # a surrogate pair is one character
        ('{"a": NaN}', False),
        ('{"a": [Infinity]}', False),
        ('{"a": -Infinity}', False),
        ('{"a": 1e400}', False),
        ('{"a": {"b": -1e400}}', False),
        ('{"a": "\\ud800"}', False),
        ('{"a": "\\udc00x"}', False),
        ("[" * 10_000 + "]" * 10_000, False),
    ],
)
def test_strict_json(text: str, strict: bool):
    assert (json_problem(text.encode()) is None) is strict
