"""Chromium for the browser tests: Debian's /usr/bin/chromium, driven by Playwright."""

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "pages"


def require_chromium() -> None:
    """Skip without Chromium, except in CI (ZHAOCUO_CI), where its absence fails the run."""
    if CHROMIUM.exists():
        return
    if os.environ.get("ZHAOCUO_CI"):
        pytest.fail(f"{CHROMIUM} is missing: .ci/run installs the chromium package")
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")


def screenshot(page, name: str) -> None:
    """Keep a picture of the page for people to look at (the folder is in .gitignore)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def tab_to(page, selector: str, limit: int = 40) -> None:
    """Press Tab until the element is focused: the keyboard reaches it, or the test fails."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")
