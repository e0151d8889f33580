"""Benchmark: memory of one web worker under a stream of webhook updates.

The app runs in this process (as a gunicorn worker would) behind Flask's test client and
answers a Bot API stand-in in another process. 10,000 updates from 2,000 users (commands, text
outside a flow, button taps, /train with a photo, /cancel) go through it; the resident set
size (RSS) is printed after the warm-up, at the 5,000th and at the 10,000th update. The bars:
at most 120 MB at the end, and no growth between the 5,000th and the 10,000th (within 2 MB:
the allocator's noise).

    .venv/bin/python -m tests.bench.memory [updates] 2>/dev/null
"""

from __future__ import annotations

import gc
import logging
import sys

from tests import factories as f
from tests.bench.webhook_cpu import SECRET, bench_app_env
from webapp import create_app
from webapp.settings import Settings


def rss_mb() -> float:
    """This process's resident set size, in MB (from /proc)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def update(n: int) -> dict:
    """The n-th update of the stream: a mix of what users send."""
    user = 5000 + n % 2000
    kind = n % 10
    if kind == 0:
        return f.message(user, "/start")
    if kind == 1:
        return f.message(user, "/credits")
    if kind == 2:
        return f.message(user, "/models")
    if kind == 3:
        return f.callback(user, "buy:10")
    if kind == 4:
        return f.message(user, "/train")
    if kind == 5:
        return f.photo(user, f"file-{n}", 900, 900)
    if kind == 6:
        return f.message(user, "/cancel")
    if kind == 7:
        return f.message(user, "/help", language_code="ru")
    return f.message(user, f"hello {n}")


def main() -> None:
    total = next((int(a) for a in sys.argv[1:] if a.isdigit()), 10_000)
    with bench_app_env() as base:
        env = {
            **base,
            "FLOOD_MESSAGES": "1000000",
            "INSPECT_SECONDS": "0",  # photos are not downloaded: the stand-in has none
        }
        app = create_app(Settings.from_env(env))
        logging.getLogger().setLevel(logging.WARNING)
        client = app.test_client()
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        rt = app.extensions["runtime"]

        def send(first: int, last: int) -> None:
            for n in range(first, last):
                response = client.post("/api/bot/webhook", json=update(n), headers=headers)
                assert response.status_code == 200, response.data
            rt.jobs.wait_idle(60)
            gc.collect()

        send(0, 500)  # warm-up: imports, caches, connections
        start = rss_mb()
        send(500, total // 2)
        half = rss_mb()
        send(total // 2, total)
        end = rss_mb()
        print(f"updates: {total} from 2,000 users (commands, text, taps, /train, photos)")
        print(f"RSS after warm-up: {start:.1f} MB")
        print(f"RSS at {total // 2:,}: {half:.1f} MB")
        print(f"RSS at {total:,}: {end:.1f} MB (bar: 120 MB)")
        growth = end - half
        print(f"growth {total // 2:,} -> {total:,}: {growth:+.1f} MB (bar: no growth, within 2 MB)")


if __name__ == "__main__":
    main()
