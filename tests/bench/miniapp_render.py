"""Benchmark: how fast the Mini App shows something meaningful, in headless Chromium.

The app runs in dev mode (no keys: SQLite, the sandbox) behind a loopback server, as `make run`
serves it; the page is /app/dev, the dev host that plays Telegram's client around the Mini App
(the same telegram-web-app.js). First meaningful render: the moment the home screen shows the
user's state (the "no models yet" screen, or the list), measured inside the Mini App's frame
from its navigation start. Each of the loads is a fresh page (a cold page, warm server). The
bar: 500 ms.

    .venv/bin/python -m tests.bench.miniapp_render [loads] 2>/dev/null
"""

from __future__ import annotations

import logging
import statistics
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.browser.client import launch_browser
from tests.live import LiveApp

# In every frame, from its start: note when the home screen first shows the user's state.
WATCH = """
new MutationObserver((_, observer) => {
  if (document.querySelector('.empty h2, .cell[data-id]')) {
    window.__shownAt = performance.now();
    observer.disconnect();
  }
}).observe(document, { childList: true, subtree: true });
"""


def main() -> None:
    loads = next((int(a) for a in sys.argv[1:] if a.isdigit()), 10)
    logging.getLogger().setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        app = LiveApp(Path(tmp), telegram=None)
        logging.getLogger().setLevel(logging.WARNING)
        times = []
        try:
            with sync_playwright() as p:
                browser = launch_browser(p)
                for _ in range(loads + 1):  # the first load warms the server up
                    page = browser.new_page(viewport={"width": 390, "height": 844})
                    page.add_init_script(WATCH)
                    page.goto(f"{app.url}/app/dev?theme=light&platform=ios&lang=en")
                    frame = page.frame_locator("#app")
                    frame.locator(".empty h2, .cell[data-id]").first.wait_for(timeout=10000)
                    inner = next(f for f in page.frames if f != page.main_frame)
                    times.append(inner.wait_for_function("() => window.__shownAt").json_value())
                    page.close()
                browser.close()
        finally:
            app.close()
    times = times[1:]
    print(f"loads: {loads} (cold page, warm server), dev mode, 390x844")
    print(
        f"first meaningful render: median {statistics.median(times):.0f} ms, "
        f"max {max(times):.0f} ms (bar: 500 ms)"
    )


if __name__ == "__main__":
    main()
