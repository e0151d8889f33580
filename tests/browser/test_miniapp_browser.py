"""The Mini App in headless Chromium at a phone's size, with a stand-in for telegram-web-app.js
that carries validly signed initData and a Telegram theme: upload 4 photos, name the model, see
it train and become ready, generate, see the images, open the viewer — in light and dark.
Screenshots of every screen go to test-artifacts/miniapp/."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

import pytest

from tests import factories as f
from tests.live import TOKEN
from webapp.security import sign_init_data

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "miniapp"
CHROMIUM = "/usr/bin/chromium"
THEMES = {
    "light": {
        "bg_color": "#ffffff",
        "secondary_bg_color": "#efeff4",
        "text_color": "#000000",
        "hint_color": "#8e8e93",
        "link_color": "#007aff",
        "button_color": "#007aff",
        "button_text_color": "#ffffff",
        "section_bg_color": "#ffffff",
        "section_header_text_color": "#6d6d72",
        "subtitle_text_color": "#8e8e93",
        "destructive_text_color": "#ff3b30",
        "accent_text_color": "#007aff",
        "section_separator_color": "#c8c7cc",
    },
    "dark": {
        "bg_color": "#1c1c1d",
        "secondary_bg_color": "#000000",
        "text_color": "#ffffff",
        "hint_color": "#98989e",
        "link_color": "#3e88f7",
        "button_color": "#3e88f7",
        "button_text_color": "#ffffff",
        "section_bg_color": "#2c2c2e",
        "section_header_text_color": "#8d8e93",
        "subtitle_text_color": "#98989e",
        "destructive_text_color": "#eb5545",
        "accent_text_color": "#3e88f7",
        "section_separator_color": "#545458",
    },
}


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium driven by Playwright (no browser download)."""
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
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-dev-shm-usage",
            ],
        )
        yield browser
        browser.close()


def init_data(user_id: int, language: str = "en") -> str:
    user = json.dumps(
        {"id": user_id, "first_name": "Ann", "language_code": language}, separators=(",", ":")
    )
    return sign_init_data(
        {"auth_date": str(int(time.time())), "query_id": "AAE", "user": user}, TOKEN
    )


def open_app(browser, live, theme: str, user_id: int, platform: str = "ios"):
    """A phone-sized page with Telegram's script replaced by the stand-in."""
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    fake = {
        "initData": init_data(user_id),
        "themeParams": THEMES[theme],
        "platform": platform,
        "version": "8.0",
    }
    stub = f"window.TG_FAKE = {json.dumps(fake)};\n" + (ROOT / "static/dev-webapp.js").read_text()
    page.route(
        "https://telegram.org/js/telegram-web-app.js",
        lambda route: route.fulfill(status=200, body=stub, content_type="application/javascript"),
    )
    page.goto(f"{live.url}/app")
    page.errors = errors
    return page


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(250)  # let fades finish
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def main_button(page):
    return page.locator("#tgmain")


def photos(tmp_path: Path) -> list[str]:
    """Four photos; the last is a large camera-sized one the browser must downscale."""
    paths = []
    for n in range(4):
        path = tmp_path / f"me{n}.jpg"
        size = (3000, 4000) if n == 3 else (900 + n * 40, 1200)
        path.write_bytes(f.jpeg(*size, (60 + n * 40, 120, 170)))
        paths.append(str(path))
    return paths


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_whole_mini_app_journey(browser, live, telegram, tmp_path, theme):
    user_id = 5100 if theme == "light" else 5200
    page = open_app(
        browser, live, theme, user_id, platform="ios" if theme == "light" else "android"
    )
    page.get_by_text("No models yet").wait_for()
    assert page.locator("#credits").inner_text().endswith("3 credits")
    assert main_button(page).inner_text() == "Create model"
    shot(page, f"{theme}-1-home-empty")

    main_button(page).click()
    page.get_by_text("Photos · 0/4").wait_for()
    assert main_button(page).is_disabled()
    assert page.locator("#hint").inner_text() == "Add 4 more photos"
    # a photo that is too small is refused in the browser, before any upload
    small = tmp_path / "small.jpg"
    small.write_bytes(f.jpeg(300, 300))
    page.locator(".slot input").nth(0).set_input_files(str(small))
    page.get_by_text("Too small (300×300)").wait_for()
    for n, path in enumerate(photos(tmp_path)):
        page.locator(".slot input").nth(n).set_input_files(path)
        page.locator(".slot.done").nth(n).wait_for()
    page.get_by_text("Photos · 4/4").wait_for()
    assert page.locator("#hint").inner_text() == "Give your model a name"
    page.locator("#name").fill("Me in " + theme)
    page.get_by_role("radio", name="Woman").click()
    assert page.locator("#hint").inner_text() == "Training costs 1 credit; you have 3 credits."
    assert main_button(page).inner_text() == "Start training · 1 credit"
    assert main_button(page).is_enabled()
    shot(page, f"{theme}-2-new-model")

    main_button(page).click()
    page.get_by_text("Me in " + theme).wait_for()
    assert page.locator("#credits").inner_text().endswith("2 credits")
    shot(page, f"{theme}-3-home-training")
    # the sandbox finishes; the list refreshes by itself
    page.locator(".cell .chev").wait_for(timeout=20000)
    assert "Woman · Ready" in page.locator(".cell[data-id]").inner_text()
    # the chat heard about it too
    telegram.wait_text(user_id, f"Your model “Me in {theme}” is ready!")
    (model,) = live.rt.store.list_models(user_id)
    assert model.photo_file_ids == () and model.tune_id is not None
    sandbox = sqlite3.connect(f"{live.rt.settings.instance_path}/astria-sandbox.sqlite3")
    (sizes,) = sandbox.execute("SELECT sizes FROM tunes WHERE id = ?", (model.tune_id,)).fetchone()
    sandbox.close()
    assert json.loads(sizes)[3] == [1536, 2048]  # 3000x4000 downscaled in the browser
    shot(page, f"{theme}-4-home-ready")

    page.locator(".cell[data-id]").click()
    page.get_by_text("Your first images will appear here").wait_for()
    assert main_button(page).is_disabled()
    shot(page, f"{theme}-5-model-empty")
    page.locator("#prompt").fill("astronaut on the moon, film photo")
    assert main_button(page).inner_text() == "Generate · 1 credit"
    main_button(page).click()
    page.locator(".tile.pend").first.wait_for()
    shot(page, f"{theme}-6-generating")
    page.locator(".tile img.in").nth(3).wait_for(timeout=20000)
    assert page.locator(".tile img").count() == 4
    assert page.locator("#cost").inner_text().endswith("you have 1 credit.")
    shot(page, f"{theme}-7-gallery")

    page.locator(".tile").first.click()
    page.locator("#vcount").wait_for()
    assert page.locator("#vcount").inner_text() == "1 of 4"
    assert main_button(page).inner_text() == "Download"
    shot(page, f"{theme}-8-viewer")
    page.locator("#tgback").click()
    assert page.locator("#viewer").is_hidden()
    calls = page.evaluate("window.TG_CALLS")
    assert ["haptic", "success"] in calls and ["ready"] in calls

    # deleting one's data: a native popup with a destructive button, then an empty app
    page.locator("#tgback").click()
    page.get_by_role("button", name="Delete my data").click()
    page.get_by_role("dialog").get_by_text("Delete everything?").wait_for()
    shot(page, f"{theme}-9-delete-confirm")
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    page.get_by_text("No models yet").wait_for()
    assert live.rt.store.list_models(user_id) == []
    assert page.errors == []
    page.close()


def test_a_russian_user_gets_russian(browser, live):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    fake = {"initData": init_data(5300, "ru"), "themeParams": THEMES["light"], "platform": "ios"}
    stub = f"window.TG_FAKE = {json.dumps(fake)};\n" + (ROOT / "static/dev-webapp.js").read_text()
    page.route(
        "https://telegram.org/js/telegram-web-app.js",
        lambda route: route.fulfill(status=200, body=stub, content_type="application/javascript"),
    )
    page.goto(f"{live.url}/app")
    page.get_by_text("Пока нет моделей").wait_for()
    assert page.locator("#tgmain").inner_text() == "Создать модель"
    page.close()


def test_outside_telegram_the_page_says_to_open_it_from_telegram(browser, live):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.route(
        "https://telegram.org/js/telegram-web-app.js",
        lambda route: route.fulfill(status=200, body="", content_type="text/javascript"),
    )
    page.goto(f"{live.url}/app")
    page.get_by_text("Open this app from the bot in Telegram.").wait_for()
    page.close()


def test_dev_mode_works_in_a_plain_browser(browser, tmp_path):
    from tests.live import LiveApp

    dev = LiveApp(tmp_path / "dev", telegram=None)
    try:
        page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        page.route(
            "https://telegram.org/js/telegram-web-app.js", lambda route: route.abort()
        )  # offline, as on a laptop without Telegram
        page.goto(f"{dev.url}/app")
        page.get_by_text("Dev mode: a dev user").wait_for()
        assert page.locator(".tgdev").inner_text() == "DEV"
        page.locator("#tgmain").click()
        for n, path in enumerate(photos(tmp_path)):
            page.locator(".slot input").nth(n).set_input_files(path)
            page.locator(".slot.done").nth(n).wait_for()
        page.locator("#name").fill("Dev model")
        page.get_by_role("radio", name="Person").click()
        page.locator("#tgmain").click()
        page.locator(".cell .chev").wait_for(timeout=20000)
        shot(page, "dev-home")
        page.close()
    finally:
        dev.close()
