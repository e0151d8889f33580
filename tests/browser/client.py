"""The Mini App in headless Chromium, opened the way Telegram opens it: Telegram's own
telegram-web-app.js (the copy @twa-dev/sdk ships) served in place of telegram.org's, the launch
parameters in the URL fragment, and a phone's bridge (phone.js) answering the script."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import quote

from tests import factories as f
from webapp.routes.miniapp import DEV_THEMES, TELEGRAM_SCRIPT

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
VENDORED_SCRIPT = ROOT / "static/vendor/telegram-web-app.js"  # == @twa-dev/sdk's (test_api)
PHONE = Path(__file__).with_name("phone.js").read_text()
ARTIFACTS = ROOT / "test-artifacts" / "miniapp"
THEMES = DEV_THEMES  # Telegram's theme params (iOS day, Android night): data, not app logic


def launch_browser(playwright):
    """Debian's chromium (no browser download), headless, with nothing reaching the network."""
    return playwright.chromium.launch(
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


def launch_fragment(
    init_data: str, theme: str, platform: str, start_param: str | None = None
) -> str:
    """The URL fragment Telegram opens a Mini App with."""
    params = [
        ("tgWebAppData", init_data),
        ("tgWebAppVersion", "8.0"),
        ("tgWebAppPlatform", platform),
        ("tgWebAppThemeParams", json.dumps(THEMES[theme], separators=(",", ":"))),
    ]
    if start_param:
        params.append(("tgWebAppStartParam", start_param))
    return "&".join(f"{key}={quote(value, safe='')}" for key, value in params)


def serve_telegram_script(page) -> None:
    """telegram.org is not reachable from tests: its script comes from the npm package."""
    body = VENDORED_SCRIPT.read_bytes()
    page.route(
        TELEGRAM_SCRIPT,
        lambda route: route.fulfill(status=200, body=body, content_type="application/javascript"),
    )


class Phone:
    """One Mini App page in a phone's Telegram; the test talks to it as Telegram would."""

    def __init__(self, browser, url: str, theme: str = "light", insets: dict | None = None):
        self.page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        self.errors: list[str] = []  # uncaught exceptions and console errors (CSP included)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", self._console)
        serve_telegram_script(self.page)
        none = {"top": 0, "bottom": 0, "left": 0, "right": 0}
        config = {"theme": THEMES[theme], "safeArea": insets or none, "contentSafeArea": none}
        self.page.add_init_script(f"window.__PHONE__ = {json.dumps(config)};\n{PHONE}")
        self.page.goto(url)

    @classmethod
    def launch(
        cls,
        browser,
        base_url: str,
        init_data: str,
        theme: str = "light",
        platform: str = "ios",
        start_param: str | None = None,
        path: str = "/app",
        hash_path: str = "",
    ) -> Phone:
        """Open the app as Telegram does: `hash_path` ("/m/5") gives the `#/m/5?tgWebAppData=…`
        form some clients reload with."""
        fragment = launch_fragment(init_data, theme, platform, start_param)
        fragment = f"{hash_path}?{fragment}" if hash_path else fragment
        return cls(browser, f"{base_url}{path}#{fragment}", theme)

    def _console(self, message) -> None:
        # an API answering 404 (someone else's model) is a network result, not a page error
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    # what Telegram sees ----------------------------------------------------------------------

    def events(self, kind: str | None = None) -> list:
        """Every event the app sent Telegram (of one kind), oldest first."""
        events = self.page.evaluate("window.__phone.events")
        return [data for name, data in events if name == kind] if kind else events

    def main_button(self) -> dict:
        """The MainButton as Telegram would draw it now."""
        return self.page.evaluate("window.__phone.main")

    def back_visible(self) -> bool:
        """Whether Telegram shows the BackButton now."""
        return bool(self.page.evaluate("window.__phone.back.is_visible"))

    def wait_main(self, text: str, active: bool = True, timeout: float = 20.0) -> dict:
        """Wait until the MainButton shows `text` (and is active or not)."""
        deadline = time.monotonic() + timeout
        while True:
            main = self.main_button()
            if main.get("is_visible") and main.get("text") == text:
                if main.get("is_active") == active:
                    return main
            if time.monotonic() > deadline:
                raise AssertionError(f"MainButton is {main}, not {text!r} active={active}")
            self.page.wait_for_timeout(50)

    def wait_popup(self, timeout: float = 10.0) -> dict:
        """The popup the app asked Telegram to show."""
        deadline = time.monotonic() + timeout
        while not (popup := self.page.evaluate("window.__phone.popup")):
            if time.monotonic() > deadline:
                raise AssertionError("no popup was opened")
            self.page.wait_for_timeout(50)
        return popup

    def wait_event(self, kind: str, count: int = 1, timeout: float = 10.0) -> dict:
        """The `count`-th event of a kind the app sent Telegram, once it has."""
        deadline = time.monotonic() + timeout
        while len(found := self.events(kind)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"the app sent no {kind} (#{count})")
            self.page.wait_for_timeout(50)
        return found[count - 1]

    # what the user does ----------------------------------------------------------------------

    def _receive(self, kind: str, data: dict | None = None) -> None:
        self.page.evaluate(
            "([kind, data]) => window.Telegram.WebView.receiveEvent(kind, data)", [kind, data]
        )

    def press_main(self) -> None:
        """The user taps the MainButton."""
        self._receive("main_button_pressed")

    def press_back(self) -> None:
        """The user taps the BackButton."""
        self._receive("back_button_pressed")

    def close_popup(self, button_id: str | None) -> None:
        """The user taps a popup's button (None: dismissed it)."""
        self.page.evaluate("window.__phone.popup = null")
        self._receive("popup_closed", {"button_id": button_id})

    def close_invoice(self, slug: str, status: str) -> None:
        """Telegram's invoice closes: paid, cancelled, failed or pending (what the client says;
        the server learns of a payment only from Telegram's update)."""
        self._receive("invoice_closed", {"slug": slug, "status": status})

    def close(self) -> None:
        """Close the page; it must have raised no error."""
        self.page.close()
        assert self.errors == [], self.errors


def photos(tmp_path: Path) -> list[str]:
    """Four photos; the last is a large camera-sized one the browser must downscale."""
    paths = []
    for n in range(4):
        path = tmp_path / f"me{n}.jpg"
        size = (3000, 4000) if n == 3 else (900 + n * 40, 1200)
        path.write_bytes(f.jpeg(*size, (60 + n * 40, 120, 170)))
        paths.append(str(path))
    return paths


def add_photos(page, tmp_path: Path) -> None:
    """Pick four photos, one per slot (`page`: a page or a frame), and wait for each."""
    for n, path in enumerate(photos(tmp_path)):
        page.locator(".slot input").nth(n).set_input_files(path)
        page.locator(".slot.done").nth(n).wait_for()


def shot(page, name: str) -> None:
    """A screenshot for people to judge, in test-artifacts/miniapp/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(250)  # let fades finish
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
