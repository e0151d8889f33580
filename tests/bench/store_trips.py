"""Benchmark: Supabase round trips per webhook update, step by step through a user's journey.

The app runs in this process on a Supabase stand-in (PostgreSQL behind PostgREST, as
tests/supabase_stack.py starts it) and answers a Bot API stand-in. Each step is delivered once,
and the PostgREST calls made while its request runs (on the request path) are counted, and
apart from them the calls made off it (the done marks of updates that wrote nothing, made
together a moment later; background jobs are waited for and not counted).

    .venv/bin/python -m tests.bench.store_trips 2>/dev/null
"""

from __future__ import annotations

import logging
import threading
from collections import Counter

import requests

from tests import factories as f
from tests.bench.webhook_cpu import SECRET, bench_app_env
from tests.supabase_stack import SupabaseStack
from webapp import create_app
from webapp.settings import Settings


def main() -> None:
    logging.getLogger().setLevel(logging.WARNING)
    stack = SupabaseStack()
    try:
        with bench_app_env() as env:
            env = {
                **env,
                "SUPABASE_URL": stack.url,
                "SUPABASE_SERVICE_ROLE_KEY": stack.service_role_key,
            }
            app = create_app(Settings.from_env(env))
            rt = app.extensions["runtime"]
            rt.start()  # as a gunicorn worker does before it serves: the first sweep is not counted
            rt.jobs.wait_idle(30)
            client = app.test_client()
            http = rt.store._http
            send = http.send
            here = threading.current_thread()
            request_path: list[str] = []
            elsewhere: Counter = Counter()

            def counting(request, **kwargs):
                name = request.url.path.rsplit("/", 1)[-1]
                if threading.current_thread() is here:
                    request_path.append(name)
                else:
                    elsewhere[name] += 1
                return send(request, **kwargs)

            http.send = counting
            requests.put(f"{env['TELEGRAM_API_URL']}/_files/bench-0", data=f.jpeg(), timeout=10)
            user = 77
            steps = [
                ("/start", f.message(user, "/start")),
                ("/help", f.message(user, "/help")),
                ("/credits", f.message(user, "/credits")),
                ("text outside a flow", f.message(user, "hello")),
                ("/train", f.message(user, "/train")),
                ("a photo", f.photo(user, "bench-0")),
            ]
            print(f"{'step':<22} request path")
            for name, update in steps:
                request_path.clear()
                response = client.post(
                    "/api/bot/webhook",
                    json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                )
                assert response.status_code == 200, response.data
                rt.jobs.wait_idle(30)
                print(f"{name:<22} {len(request_path)}: {', '.join(request_path)}")
            rt.close()  # what waits to be marked done is marked now
            done_marks = elsewhere.get("updates_done", 0)
            print(f"off the request path: {done_marks} updates_done call(s) for the steps above")
    finally:
        stack.close()


if __name__ == "__main__":
    main()
