"""What many test modules share: servers that stop at once, a user's steps in the chat and in
the Mini App API, and looks into the Astria sandbox. (Builders of updates and images are in
factories.py; the Bot API stand-in in fake_telegram.py; the app over HTTP in live.py.)"""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import sqlite3
import subprocess
import time

import pytest
import redis
import requests
from rq import Queue, Worker

from tests import factories as f
from tests.live import TOKEN, serve
from tests.processes import die_with_parent, free_port  # noqa: F401 (the helpers' one copy)
from webapp.queue import OPTIONAL_QUEUE, QUEUE
from webapp.records import Model
from webapp.security import sign_init_data

# servers ----------------------------------------------------------------------------------------


class Recorder:
    """A small HTTP server that records every request (the operator's "internal network" in
    the security tests) and answers with `status`, `headers` and `body`."""

    def __init__(self, status: int = 200, headers: dict | None = None, body: bytes = b"secret"):
        self.hits: list[str] = []

        def app(environ, start_response):
            self.hits.append(environ["PATH_INFO"])
            start_response(f"{status} X", list((headers or {}).items()))
            return [body]

        self.server, self.url = serve(app)

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()


def redis_url() -> str:
    """This test worker's database on the local Redis, or a skip (never under CI=true). Tests
    on one pytest-xdist worker run one at a time: a test may empty it, and no other test sees
    its keys (gw0 → database 8, gw1 → 9, …; up to eight workers)."""
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        if os.environ.get("CI") == "true":
            pytest.fail("Redis is not running on 127.0.0.1:6379")
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    return f"redis://127.0.0.1:6379/{8 + int(worker or 0)}"


# the chat ---------------------------------------------------------------------------------------

_files = itertools.count(1)


def eventually(check, timeout: float = 10.0):
    """Wait until `check()` is true (what it returned), for what another process finishes
    a moment after a message the test saw."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, f"{check} did not come true in {timeout}s"
        time.sleep(0.05)
    return found


def rq_settled(url: str, timeout: float = 30.0, also=lambda: True) -> None:
    """Wait until nothing waits in Redis (at `url`) and nothing runs: no job queued (or being
    taken by a worker), none running on a live worker, no message queued in an outbox's
    journal; and `also()`. Quiet twice in a row, a moment apart (a worker between taking a job
    and saying so, or a job that queued more, is not caught in between)."""
    connection = redis.Redis.from_url(url)

    def quiet() -> bool:
        for name in (QUEUE, OPTIONAL_QUEUE):
            queue = Queue(name, connection=connection)
            if queue.count or connection.llen(queue.intermediate_queue_key):
                return False
        busy = [w.pid for w in Worker.all(connection=connection) if w.get_state() == "busy"]
        if [pid for pid in busy if pid and _alive(pid)]:  # a killed one stays "busy"
            return False
        if any(connection.hlen(k) for k in connection.keys("astria-bot:outbox:*:calls")):
            return False  # (an outbox's queued messages, but albums, are journaled with Redis)
        return also()

    eventually(lambda: quiet() and not time.sleep(0.1) and quiet(), timeout)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def sweeps_after(
    live, seconds: float, count: int = 2, timeout: float = 30.0, idle: bool = True
) -> None:
    """Wait until every sweep of the app has run `count` times, each begun `seconds` from now or
    later, and then (`idle`) for the jobs they started: the moment a second copy of something
    would have been made by then (a claim that runs out after `seconds` is taken over by the
    next sweep). A check for "nothing twice" looks after this, not after a fixed sleep."""
    moment = time.monotonic() + seconds
    sweepers = [s for s in live.rt.sweepers if s.interval <= live.rt.settings.sweep_seconds]
    assert sweepers, "the app sweeps nothing"  # (the reconciler's, every few minutes, aside)
    eventually(
        lambda: all(sum(b >= moment for b, _ in s.swept) >= count for s in sweepers), timeout
    )
    if idle:
        live.idle()


def make_model(store, user: int, *, ready_as: int | None = None, **fields) -> Model:
    """A model made straight in the store (not through the journey), charged `cost` (default
    0); `ready_as=<tune id>` makes it ready. Every test that needs a bare model makes it here,
    so a new column is one change."""
    fields = {
        "name": "Me",
        "class_name": "man",
        "title": f"title-{next(_titles)}",
        "photo_file_ids": [],
        "cost": 0,
        **fields,
    }
    model, _ = store.create_model(user, **fields)
    if ready_as is not None:
        store.finish_model(model.id, ready_as, None)
        model = store.get_model(model.id)
    return model


_titles = itertools.count(1)


def send_photos(
    live, telegram, user: int, count: int = 4, begin: dict | None = None, **photo_kwargs
) -> list[str]:
    """/train (or the update `begin`) and `count` different good photos, as a user sends
    them; their file ids."""
    live.post_update(begin or f.message(user, "/train"))
    file_ids = [f"{user}-photo-{next(_files)}" for _ in range(count)]
    for file_id in file_ids:
        telegram.add_file(file_id, f.jpeg(700, 700))
        live.post_update(f.photo(user, file_id, 700, 700, **photo_kwargs))
    return file_ids


def start_training(live, telegram, user: int, name: str = "Me", class_name: str = "man") -> None:
    """/train, four photos, a name and a class: the model is charged and on its way."""
    send_photos(live, telegram, user)
    live.post_update(f.message(user, name))
    live.post_update(f.callback(user, f"cls:{class_name}"))


def trained_model(live, telegram, user: int, name: str = "Me", class_name: str = "man") -> Model:
    """A model trained through the chat, once the user has been told it is ready."""
    mark = telegram.mark()
    start_training(live, telegram, user, name, class_name)
    telegram.wait_text(user, f"Your model “{name}” is ready!", after=mark)
    live.idle()
    return next(m for m in live.rt.store.list_models(user) if m.name == name)


# the Mini App API -------------------------------------------------------------------------------


def init_data(
    user_id: int = 6001, age: int = 0, token: str = TOKEN, language: str = "en", **extra
) -> str:
    """initData for a user, signed by our own helper (tests/signers.py has an independent one)."""
    user = json.dumps({"id": user_id, "first_name": "Kim", "language_code": language})
    fields = {"auth_date": str(int(time.time()) - age), "query_id": "q", "user": user, **extra}
    return sign_init_data(fields, token)


def call(live, method, path, data=None, user_id=6001, auth=None, **kwargs):
    """One Mini App API call, as `user_id` (or with another Authorization)."""
    auth = auth if auth is not None else f"tma {init_data(user_id)}"
    return live.http.request(
        method,
        f"{live.url}{path}",
        headers={"Authorization": auth},
        json=data,
        timeout=30,
        **kwargs,
    )


def upload(live, photos, name="Me", class_name="man", user_id=6001, **form):
    """POST /api/bot/train-model with these photos (and more `form` fields, e.g. model_type)."""
    files = [("images", (f"p{n}.jpg", content, "image/jpeg")) for n, content in enumerate(photos)]
    return live.http.post(
        f"{live.url}/api/bot/train-model",
        files=files,
        timeout=30,
        data={"name": name, "class_name": class_name, **form},
        headers={"Authorization": f"tma {init_data(user_id)}"},
    )


def good_photos(n=4) -> list[bytes]:
    """`n` different photos that pass every check (the sandbox's blur test included)."""
    return [f.jpeg(700 + i, 700) for i in range(n)]


# the Astria sandbox -----------------------------------------------------------------------------


def _sandbox_rows(live, table: str) -> list[sqlite3.Row]:
    """Every row of one of the sandbox's tables, oldest first."""
    db = sqlite3.connect(f"{live.rt.settings.instance_path}/astria-sandbox.sqlite3")
    db.row_factory = sqlite3.Row
    try:
        return db.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
    finally:
        db.close()


def sandbox_tunes(live) -> list[sqlite3.Row]:
    """Every tune the app's sandbox holds."""
    return _sandbox_rows(live, "tunes")


def sandbox_prompts(live) -> list[sqlite3.Row]:
    """Every prompt the app's sandbox received, oldest first (text, tune_id, options as JSON)."""
    return _sandbox_rows(live, "prompts")


def sandbox_likes(live) -> list[int]:
    """The prompt ids the sandbox was told are liked (POST /prompts/:id/likes), a row per like."""
    return [row["prompt_id"] for row in _sandbox_rows(live, "likes")]


def tune_sizes(live, tune_id: int) -> list:
    """The sizes of the photos the sandbox received for a tune."""
    (tune,) = [t for t in sandbox_tunes(live) if t["id"] == tune_id]
    return json.loads(tune["sizes"])


def sandbox(live, method: str, path: str, key: str | None = None, **kwargs):
    """Call the app's Astria sandbox, with its own key unless another is given."""
    auth = key if key is not None else live.rt.settings.sandbox_key
    return requests.request(
        method,
        f"{live.url}/astria-sandbox{path}",
        headers={"Authorization": f"Bearer {auth}"},
        timeout=10,
        **kwargs,
    )


def stop_processes(procs, timeout: float = 20.0) -> list:
    """SIGTERM every process still running, then wait for each (SIGKILL past `timeout`): the
    ones that had to be killed (an operator's `systemctl stop` would have waited for them)."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    killed = []
    for proc in procs:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()  # else its Popen warns, as a ResourceWarning, when it is collected
            killed.append(proc.args)
    return killed
