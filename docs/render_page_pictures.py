"""The citizens' pages as pictures for the README: docs/pages-<page>-<width>.png.

Serves the app over a fresh SQLite file with the demo directory and one answered report
(as bench/pages.py does), then photographs each page in Debian's Chromium at 375 and 1280 px.

    .venv/bin/python docs/render_page_pictures.py        (make page-pictures)
"""

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from pages import REPORT, seed
from playwright.sync_api import sync_playwright

from app.clock import Clock
from app.config import Settings
from app.db import create_db_engine
from app.main import create_app
from app.migrate import upgrade_to_head
from tests.live_server import serving

ROOT = Path(__file__).resolve().parents[1]
WIDTHS = (375, 1280)


def shoot(page, name: str, width: int) -> None:
    path = ROOT / "docs" / f"pages-{name}-{width}.png"
    page.screenshot(path=str(path), full_page=True)
    print(path.relative_to(ROOT))


def main() -> None:
    folder = tempfile.mkdtemp()
    settings = Settings(
        database_url=f"sqlite:///{folder}/pictures.db",
        public_rate_limit="",
        public_read_rate_limit="",
        form_min_fill_seconds=0,
    )
    upgrade_to_head(settings.database_url)
    engine = create_db_engine(settings.database_url)
    app = create_app(settings=settings, engine=engine, clock=Clock())
    with serving(app) as base, sync_playwright() as playwright:
        code = seed(engine, base)
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox"]
        )
        for width in WIDTHS:
            page = browser.new_page(viewport={"width": width, "height": 800}, locale="zh-CN")

            page.goto(f"{base}/")
            shoot(page, "home", width)
            page.goto(f"{base}/jiucuo?site_code={REPORT['site_code']}&url={REPORT['page_url']}")
            shoot(page, "form", width)
            page.select_option("#category", "4")
            page.fill("#description", "政策文件的发布日期写成了2062年。")
            page.click("button[type=submit]")
            page.wait_for_selector("#tracking-code")
            shoot(page, "receipt", width)
            page.goto(f"{base}/track/{code}")
            shoot(page, "track", width)
            page.goto(f"{base}/answered")
            shoot(page, "answered", width)
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
