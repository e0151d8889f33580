"""The browser suites' browser: Debian's chromium through Playwright for Python."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.client import CHROMIUM, launch_browser


@pytest.fixture(scope="session")
def browser():
    """One browser for the browser suites; skipped (never under CI=true) without chromium."""
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "playwright is not installed"
    if reason is None and not Path(CHROMIUM).exists():
        reason = "chromium is not installed (make tools, as root)"
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser suite skipped: {reason} — CI must run it")
        pytest.skip(f"browser suite skipped: {reason}")
    with sync_playwright() as p:
        browser = launch_browser(p)
        yield browser
        browser.close()
