"""What the page tests share: reading a served form, posting it as a browser does."""

import re
from datetime import timedelta

from fastapi.testclient import TestClient

from app.clock import FrozenClock

FILL_SECONDS = timedelta(seconds=30)
NO_FILE = ("screenshots", ("", b"", "application/octet-stream"))
TYPED = {
    "site_code": "9901000002",
    "page_url": "http://jyj.jia.example.gov.cn/xxgk/index.html",
    "category": "4",
    "description": "首页“教育局”写成了“敎育局”。",
    "name": "林晓",
    "phone": "13800138000",
    "email": "",
}


def hidden(html: str, name: str) -> str | None:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    return found.group(1) if found else None


def field_error(html: str, name: str) -> str | None:
    found = re.search(rf'<p class="error" id="{name}-error">([^<]*)</p>', html)
    return found.group(1) if found else None


def tracking_code(html: str) -> str:
    return re.search(r'<output id="tracking-code">([A-Z0-9]{16})</output>', html).group(1)


def post_form(
    client: TestClient,
    clock: FrozenClock,
    *,
    files: list | None = None,
    wait: timedelta = FILL_SECONDS,
    extra: dict | None = None,
    **changes: str,
):
    """Open the form, wait as a person would, and post it with the fields changed."""
    page = client.get("/jiucuo")
    assert page.status_code == 200, page.text
    data = {**TYPED, **changes, "form_token": hidden(page.text, "form_token")}
    challenge = hidden(page.text, "captcha_challenge")
    if challenge:
        data["captcha_challenge"] = challenge
    data.update(extra or {})
    clock.advance(wait)
    return client.post("/jiucuo", data=data, files=files or [NO_FILE])
