"""The citizens' pages in Chromium against a live server: keyboard only, phone and desktop."""

import re
from collections.abc import Iterator

import httpx
import pytest

from app.clock import Clock
from app.main import create_app
from app.web import guards
from tests.conftest import Directory, report_id
from tests.live_server import serving
from tests.reports.images import png
from tests.web.browser import CHROMIUM, require_chromium, screenshot, tab_to

DESCRIPTION = "首页“教育局”写成了“敎育局”，请更正。"


@pytest.fixture
def live(settings, engine, directory: Directory) -> Iterator[tuple[str, object]]:
    # A real clock: the form's fill time passes as the keys are typed.
    browser_settings = settings.model_copy(update={"form_min_fill_seconds": 1, "captcha_after": 3})
    app = create_app(settings=browser_settings, engine=engine, clock=Clock())
    with serving(app) as base:
        yield base, app


@pytest.fixture
def browser():
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


def open_page(browser, base: str, width: int):
    """A page that records every request it makes, at a width in CSS pixels."""
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.requests = []
    page.on("request", lambda request: page.requests.append(request.url))
    return page


def assert_fits(page, width: int) -> None:
    """Nothing sticks out sideways: no horizontal scrolling at the page's width."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def assert_only_own_origin(page, base: str) -> None:
    outside = [url for url in page.requests if not url.startswith(base + "/")]
    assert outside == []
    assert page.requests  # the counting itself works


def unit(base: str, directory: Directory, code: str, engine, action: str, body: dict) -> None:
    response = httpx.post(
        f"{base}/api/v1/unit/reports/{report_id(engine, code)}/{action}",
        json=body,
        headers=directory.auth("handler_a1"),
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("width", [375, 1280])
def test_badge_link_to_receipt_keyboard_only_with_a_screenshot(
    browser, live, tmp_path, width: int
) -> None:
    base, _ = live
    picture = tmp_path / "截图.png"
    picture.write_bytes(png())
    page = open_page(browser, base, width)
    # Listening before the page loads: Playwright intercepts file choosers only once a listener
    # is in place, and one added just before the key press can lose that race on a busy machine.
    page.on("filechooser", lambda chooser: chooser.set_files(str(picture)))
    page.goto(f"{base}/jiucuo?site_code=9901000002&url=http://jyj.jia.example.gov.cn/a.html")
    assert "甲市教育局网站" in page.inner_text(".site")
    assert page.input_value("#site_code") == "9901000002"
    assert page.input_value("#page_url") == "http://jyj.jia.example.gov.cn/a.html"
    assert_fits(page, width)
    screenshot(page, f"form-{width}")
    tab_to(page, "#category")
    for _ in range(5):  # 请选择, then 内容无法访问 … 错别字
        page.keyboard.press("ArrowDown")
    assert page.input_value("#category") == "4"
    page.keyboard.press("Tab")
    page.keyboard.type(DESCRIPTION)
    page.wait_for_timeout(400)
    assert page.inner_text("#description-count") == f"已输入{len(DESCRIPTION)}字"
    tab_to(page, "#screenshots")
    page.keyboard.press("Space")
    page.wait_for_function("document.getElementById('screenshots').files.length === 1")
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#tracking-code")
    assert re.fullmatch(r"[A-Z0-9]{16}", page.inner_text("#tracking-code"))
    assert "甲市教育局" in page.inner_text(".facts")
    assert_fits(page, width)
    screenshot(page, f"receipt-{width}")
    page.click("text=查询进展 >> nth=1")
    page.wait_for_selector("text=已附1张截图（仅办理单位可见）")
    assert_fits(page, width)
    screenshot(page, f"track-{width}")
    assert_only_own_origin(page, base)


def test_field_errors_keep_the_typed_text(browser, live) -> None:
    base, _ = live
    page = open_page(browser, base, 375)
    page.goto(f"{base}/jiucuo")
    page.fill("#page_url", "www.example.gov.cn")
    page.fill("#description", "错字")
    page.fill("#phone", "12345")
    page.wait_for_timeout(1100)
    page.click("button[type=submit]")
    page.wait_for_selector(".alert")
    assert page.inner_text("#page_url-error").startswith("网址应以 http:// 或 https:// 开头")
    assert page.inner_text("#description-error") == "请用5至2000个字描述问题（您写了2个字）。"
    assert page.input_value("#page_url") == "www.example.gov.cn"
    assert page.input_value("#description") == "错字"
    assert page.input_value("#phone") == "12345"
    assert "出于安全原因，已选择的截图没有保留，请重新选择。" in page.inner_text(".alert")
    assert_fits(page, 375)
    screenshot(page, "form-errors-375")
    assert_only_own_origin(page, base)


def test_the_unit_answers_asks_and_the_citizen_supplements_then_sees_the_list(
    browser, live, engine, directory: Directory
) -> None:
    base, _ = live
    page = open_page(browser, base, 1280)
    page.goto(f"{base}/jiucuo?site_code=9901000002&url=http://jyj.jia.example.gov.cn/a.html")
    page.select_option("#category", "4")
    page.fill("#description", "联系电话13812345678写错了，应为别的号码。")
    page.wait_for_timeout(1100)
    page.click("button[type=submit]")
    code = page.inner_text("#tracking-code")
    unit(base, directory, code, engine, "request-info", {"text": "请说明是哪一条通知。"})
    page.goto(f"{base}/track/{code}")
    assert "请说明是哪一条通知。" in page.inner_text("#supplement")
    page.fill("#supplement-text", "是11月20日的招生通知。")
    page.click("text=提交补充信息")
    page.wait_for_selector("text=网民补充信息")
    assert page.locator("#supplement-text").count() == 0
    unit(base, directory, code, engine, "resolve", {"verdict": "confirmed", "text": "已改正。"})
    page.reload()
    assert "已改正。" in page.inner_text("main")
    page.check("input[value=satisfied]")
    page.click("text=提交评价")
    page.wait_for_selector("text=您的评价：")
    assert "满意" in page.inner_text("#rating")
    screenshot(page, "track-answered-1280")
    page.goto(f"{base}/answered")
    text = page.inner_text("main")
    assert "138****5678" in text and "13812345678" not in text
    screenshot(page, "answered-1280")
    page.goto(f"{base}/")
    screenshot(page, "home-1280")
    assert_only_own_origin(page, base)


def test_the_captcha_after_the_threshold(browser, live) -> None:
    base, app = live
    page = open_page(browser, base, 375)
    for _ in range(3):
        page.goto(f"{base}/jiucuo?site_code=9901000002&url=http://jyj.jia.example.gov.cn/a.html")
        assert page.locator("#captcha").count() == 0
        page.select_option("#category", "4")
        page.fill("#description", DESCRIPTION)
        page.wait_for_timeout(1100)
        page.click("button[type=submit]")
        page.wait_for_selector("#tracking-code")
    page.goto(f"{base}/jiucuo?site_code=9901000002&url=http://jyj.jia.example.gov.cn/a.html")
    picture = page.locator("img[src^='/captcha/']")
    assert picture.evaluate("img => img.complete && img.naturalWidth") == 180
    screenshot(page, "captcha-375")
    challenge = page.input_value("input[name=captcha_challenge]")
    page.select_option("#category", "4")
    page.fill("#description", DESCRIPTION)
    page.fill("#captcha", guards.captcha_answer(settings=app.state.settings, challenge=challenge))
    page.wait_for_timeout(1100)
    page.click("button[type=submit]")
    page.wait_for_selector("#tracking-code")
    assert_only_own_origin(page, base)
