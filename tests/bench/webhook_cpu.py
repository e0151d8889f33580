"""Benchmark: CPU per webhook update through the whole app vs a bare pyTelegramBotAPI echo bot.

Both run in this process through Flask's test client and answer with one sendMessage to a Bot
API stand-in in another process (its CPU is not counted). Rounds alternate to even out noise.
The app is measured twice: as deployed, its reply riding in the webhook's answer (Telegram makes
that call: no request of ours), and with that turned off, making its own request as the echo bot
does. The bar: the app costs at most 1.15x the echo bot.

    .venv/bin/python -m tests.bench.webhook_cpu [updates-per-round] [rounds] [--quiet] 2>/dev/null

Logging stays at INFO (as in production: two or three lines per update, to stderr) unless
--quiet is given.
"""

from __future__ import annotations

import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager

import telebot
from flask import Flask, request
from telebot import apihelper

from bot import outbox
from bot.telegram import api_urls
from tests import factories as f
from tests.processes import free_port
from webapp import create_app
from webapp.settings import Settings

TOKEN = "123456:BENCH-token-0123456789abcdefghijkl"
SECRET = "bench-secret"


def echo_app() -> Flask:
    """The official Flask echo example (webhook_flask_echo_bot.py), threaded=False."""
    bot = telebot.TeleBot(TOKEN, threaded=False)

    @bot.message_handler(func=lambda m: True)
    def echo(message):
        bot.reply_to(message, message.text)

    app = Flask("echo")

    @app.post("/api/bot/webhook")
    def webhook():
        if request.headers.get("content-type") == "application/json":
            update = telebot.types.Update.de_json(request.get_data().decode("utf-8"))
            bot.process_new_updates([update])
            return ""
        return "", 403

    return app


def run(client, updates) -> float:
    """CPU seconds to post these updates."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    start = time.process_time()
    for update in updates:
        response = client.post("/api/bot/webhook", json=update, headers=headers)
        assert response.status_code == 200, response.data
    return time.process_time() - start


@contextmanager
def bench_app_env():
    """The Bot API stand-in in another process (its CPU is not counted), and the environment
    of an app that talks to it from a temporary instance folder."""
    port = free_port()
    stand_in = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_telegram", str(port), TOKEN],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.5)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            yield {
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_WEBHOOK_SECRET": SECRET,
                "TELEGRAM_API_URL": f"http://127.0.0.1:{port}",
                "ASTRIA_SANDBOX": "1",  # no Astria key: the sandbox, said out loud
                "INSTANCE_PATH": tmp,
                "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3",
                # Pacing off: a paced reply would be sent by the outbox's thread after the
                # measured window, and its CPU missed. Here every reply is made in the request.
                "TELEGRAM_CHAT_RATE": "1000000",
                "TELEGRAM_GLOBAL_RATE": "1000000",
            }
    finally:
        stand_in.terminate()


def main() -> None:
    numbers = [int(a) for a in sys.argv[1:] if a.isdigit()]
    n, rounds = (numbers + [300, 5][len(numbers) :])[:2]
    with bench_app_env() as env:
        settings = Settings.from_env(env)
        app = create_app(settings).test_client()
        if "--quiet" in sys.argv:  # without the app's INFO log lines
            logging.getLogger().setLevel(logging.WARNING)
        echo = echo_app().test_client()
        # the echo app goes through telebot's own HTTP path; ours through its outbox
        api_url, sender = apihelper.API_URL, apihelper.CUSTOM_REQUEST_SENDER
        echo_url = api_urls(settings)[0]
        # Returning users, each writing now and then (under the flood limit), as in real life.
        users = [1000 + i for i in range(1000)]
        turn = iter(range(10**9))

        def updates(kind):
            return [f.message(users[next(turn) % len(users)], "hello there") for _ in range(n)]

        totals = {"echo": 0.0, "app": 0.0, "own": 0.0}
        ratios, own_ratios = [], []
        answerable = set(outbox.ANSWERABLE)
        for i in range(0, len(users), 100):  # warm up: users registered, connections open
            run(app, [f.message(u, "hi") for u in users[i : i + 100]])
        apihelper.API_URL, apihelper.CUSTOM_REQUEST_SENDER = echo_url, None
        run(echo, updates("echo")[:50])
        for _ in range(rounds):
            apihelper.API_URL, apihelper.CUSTOM_REQUEST_SENDER = echo_url, None
            echo_cpu = run(echo, updates("echo"))
            apihelper.API_URL, apihelper.CUSTOM_REQUEST_SENDER = api_url, sender
            app_cpu = run(app, updates("app"))
            outbox.ANSWERABLE.clear()  # the reply as a request of our own
            own_cpu = run(app, updates("own"))
            outbox.ANSWERABLE.update(answerable)
            totals["echo"] += echo_cpu
            totals["app"] += app_cpu
            totals["own"] += own_cpu
            ratios.append(app_cpu / echo_cpu)
            own_ratios.append(own_cpu / echo_cpu)
        per = {k: v / (n * rounds) * 1000 for k, v in totals.items()}
        print(f"updates: {n * rounds} each (text outside a flow -> one sendMessage)")
        print(f"echo bot: {per['echo']:.3f} ms CPU per update")
        print(f"the app:  {per['app']:.3f} ms CPU per update (reply in the webhook answer)")
        print(f"the app:  {per['own']:.3f} ms CPU per update (reply as its own request)")
        print(
            f"ratio app/echo: {per['app'] / per['echo']:.2f} overall, "
            f"{statistics.median(ratios):.2f} median of {rounds} rounds (bar: 1.15)"
        )
        print(
            f"ratio app/echo, reply as its own request: {per['own'] / per['echo']:.2f} "
            f"overall, {statistics.median(own_ratios):.2f} median"
        )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
