"""ZHAOCUO_CORS_ORIGINS: which browser origins may call the JSON API; none by default."""

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app

ALLOWED = "https://www.shaanxi.gov.cn"
OTHER = "https://evil.example.com"


@pytest.fixture
def cors_client(settings, engine, clock):
    configured = settings.model_copy(
        update={"cors_origins": [ALLOWED, "https://jyj.jia.example.gov.cn"]}
    )
    with TestClient(create_app(settings=configured, engine=engine, clock=clock)) as client:
        yield client


def test_no_origin_configured_sends_no_cors_header(client):
    response = client.get("/api/v1/answered", headers={"Origin": ALLOWED})
    assert response.status_code == 200
    assert not [h for h in response.headers if h.lower().startswith("access-control-")]
    preflight = client.options(
        "/api/v1/reports",
        headers={"Origin": ALLOWED, "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_an_allowed_origin_may_read(cors_client):
    response = cors_client.get("/api/v1/answered", headers={"Origin": ALLOWED})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert "access-control-allow-credentials" not in response.headers
    assert "X-Request-ID" in response.headers["access-control-expose-headers"]


def test_another_origin_gets_no_permission(cors_client):
    response = cors_client.get("/api/v1/answered", headers={"Origin": OTHER})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


def test_preflight_of_a_submission(cors_client):
    headers = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    allowed = cors_client.options("/api/v1/reports", headers={"Origin": ALLOWED, **headers})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "content-type" in allowed.headers["access-control-allow-headers"].lower()
    assert allowed.headers["access-control-max-age"] == "600"

    refused = cors_client.options("/api/v1/reports", headers={"Origin": OTHER, **headers})
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers


def test_pages_outside_the_api_get_no_cors_headers(cors_client):
    response = cors_client.get("/healthz", headers={"Origin": ALLOWED})
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize(
    "value",
    [
        "https://www.shaanxi.gov.cn, https://jyj.jia.example.gov.cn/",
        '["https://www.shaanxi.gov.cn", "https://jyj.jia.example.gov.cn"]',
    ],
)
def test_the_setting_takes_a_comma_separated_or_json_list(monkeypatch, value):
    monkeypatch.setenv("ZHAOCUO_CORS_ORIGINS", value)
    assert Settings(database_url="sqlite://").cors_origins == [
        "https://www.shaanxi.gov.cn",
        "https://jyj.jia.example.gov.cn",
    ]


def test_the_setting_is_empty_by_default(monkeypatch):
    monkeypatch.delenv("ZHAOCUO_CORS_ORIGINS", raising=False)
    assert Settings(database_url="sqlite://").cors_origins == []
