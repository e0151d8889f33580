"""The bare pyTelegramBotAPI echo webhook (its official Flask example), as a WSGI app for
gunicorn: the baseline of tests/bench/webhook_wrk.py. BENCH_BOT_API is the Bot API's address."""

from __future__ import annotations

import os

from telebot import apihelper

from tests.bench.webhook_cpu import echo_app

apihelper.API_URL = os.environ["BENCH_BOT_API"] + "/bot{0}/{1}"
app = echo_app()
