"""With REDIS_URL, background work is durable: jobs wait in Redis for `flask --app wsgi worker`
(a separate process, as deployed), Mini App photos wait in Redis (not in a process's memory),
and killing the web process or the worker mid-way loses nothing that can still be done."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
import redis
import requests

from tests import factories as f, processes
from tests.live import base_env
from tests.support import (
    call,
    eventually,
    free_port,
    good_photos,
    init_data,
    redis_url,
    rq_settled,
    sandbox_tunes,
    send_photos,
    start_training,
    stop_processes,
    sweeps_after,
    upload,
)
from webapp.queue import OPTIONAL_QUEUE, QUEUE
from webapp.settings import Settings
from webapp.stash import RedisStash

ROOT = Path(__file__).resolve().parent.parent
USER = 6001


@pytest.fixture
def rq_env():
    url = redis_url()
    connection = redis.Redis.from_url(url)
    connection.flushdb()
    yield {"REDIS_URL": url, "SWEEP_SECONDS": "1", "UPLOAD_LEASE_SECONDS": "3"}
    connection.flushdb()


class Workers:
    """`flask --app wsgi worker` processes started as an operator would, with the app's env."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.procs: list[subprocess.Popen] = []

    def start(self, live) -> subprocess.Popen:
        log = self.tmp_path / f"worker-{len(self.procs)}.log"
        proc = processes.spawn(processes.WORKER, {**os.environ, **live.settings_env}, log)
        self.procs.append(proc)
        return proc

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.tmp_path.glob("worker-*.log"))

    def stop(self) -> None:
        assert stop_processes(self.procs, timeout=10) == [], "a worker ignored SIGTERM"


@pytest.fixture
def workers(tmp_path):
    started = Workers(tmp_path)
    yield started
    started.stop()
    assert "Traceback" not in started.logs(), started.logs()


def settled(url: str, sandbox_key: str, env: dict, live=None, timeout: float = 30.0) -> None:
    """Wait until nothing more can come of what was started: the sandbox (in the web process at
    `url`) has sent every callback, and nothing waits or runs in Redis (tests.support
    .rq_settled), nor in `live`'s own pool. A check for "nothing twice" looks after this: a
    second notice or copy would have gone out by then."""
    http = requests.Session()

    def callbacks_sent() -> bool:
        answer = http.get(
            f"{url}/astria-sandbox/_callbacks",
            headers={"Authorization": f"Bearer {sandbox_key}"},
            timeout=10,
        )
        return answer.json()["pending"] == 0

    def here_idle() -> bool:
        return live is None or live.rt.jobs.wait_idle(0, here_only=True)

    rq_settled(env["REDIS_URL"], timeout, also=lambda: callbacks_sent() and here_idle())


def staged(env) -> list[bytes]:
    """The keys of Mini App photos waiting in Redis."""
    return redis.Redis.from_url(env["REDIS_URL"]).keys(RedisStash.PREFIX + "*")


def test_jobs_wait_in_redis_for_a_worker_and_outlive_the_web_process(
    make_live, telegram, workers, rq_env
):
    port = free_port()  # the web process comes back on the same address, below
    first = make_live(port=port, **rq_env)
    call(first, "GET", "/api/bot/me")
    assert upload(first, good_photos(), name="Durable").status_code == 201
    queued = redis.Redis.from_url(rq_env["REDIS_URL"])
    assert queued.llen(f"rq:queue:{QUEUE}") == 1  # no thread here took it
    sweeps_after(first, 0, idle=False)  # sweeps find the upload waiting, and its job queued
    assert queued.llen(f"rq:queue:{QUEUE}") == 1  # not a second job for it
    assert len(staged(rq_env)) == 1  # the photos wait in Redis, not in this process
    # a job waiting for a worker is not idle, but nothing of this process's own is left to wait
    # for (what `flask --app wsgi reconcile` waits for before it exits)
    assert not first.rt.jobs.wait_idle(0.3)
    assert first.rt.jobs.wait_idle(5, here_only=True)
    (model,) = first.rt.store.list_models(USER)
    assert model.photo_file_ids == () and model.tune_id is None
    first.close()  # the web process goes away with the upload still to do

    again = make_live(port=port, **rq_env)  # a new web process on the same address
    workers.start(again)
    telegram.wait_text(USER, "Your model “Durable” is ready!", timeout=30)
    assert staged(rq_env) == []  # deleted once Astria had them
    assert [t["title"] for t in sandbox_tunes(again)] == [model.title]
    assert again.rt.store.get_user(USER).credits == 3 - 1

    # the chat through the worker too: a generation and its album
    again.post_update(f.callback(USER, f"sty:{model.id}:noir"))
    telegram.wait_text(USER, "Want more pictures with “Durable”?", timeout=30)
    assert telegram.calls_to("sendMediaGroup", USER)
    assert again.rt.jobs.wait_idle(30)
    assert queued.llen(f"rq:queue:{OPTIONAL_QUEUE}") == 0


def test_a_worker_killed_mid_upload_is_replaced_and_the_model_trained_once(
    make_live, telegram, workers, rq_env
):
    live = make_live(**rq_env)
    call(live, "GET", "/api/bot/me")
    live.sandbox_fault(kind="delay", method="POST", path="/tunes", body="2")
    assert upload(live, good_photos(), name="Tough").status_code == 201
    doomed = workers.start(live)
    live.wait_faults_used(timeout=20)  # the upload is in Astria's hands, not answered yet
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=5)
    workers.start(live)  # the upload's lease runs out; the sweep queues it again
    telegram.wait_text(USER, "Your model “Tough” is ready!", timeout=60)
    settled(live.url, live.rt.settings.sandbox_key, rq_env, live)  # when a second would be out
    assert sum("is ready" in text for text in telegram.texts(USER)) == 1
    (model,) = live.rt.store.list_models(USER)
    assert [t["title"] for t in sandbox_tunes(live)] == [model.title]  # one tune
    assert [e.delta for e in live.rt.store.ledger(USER)] == [3, -1]  # charged once, no refund
    assert staged(rq_env) == []


def test_a_worker_killed_mid_download_is_replaced_and_the_model_trained_once(
    make_live, telegram, workers, rq_env
):
    live = make_live(**rq_env)
    send_photos(live, telegram, USER)  # the chat's /train: photos Telegram keeps for us
    live.post_update(f.message(USER, "Fetched"))
    mark = telegram.mark()
    telegram.fail("getFile", 200, hang=5)  # Telegram takes its time with the first photo
    live.post_update(f.callback(USER, "cls:man"))  # charged: the upload job is queued
    doomed = workers.start(live)
    telegram.wait_for(lambda calls: [c for c in calls[mark:] if c.method == "getFile"])
    doomed.send_signal(signal.SIGKILL)  # mid-download
    doomed.wait(timeout=5)
    workers.start(live)
    telegram.wait_text(USER, "Your model “Fetched” is ready!", timeout=60)
    settled(live.url, live.rt.settings.sandbox_key, rq_env, live)  # when a second would be out
    assert sum("is ready" in text for text in telegram.texts(USER)) == 1
    (model,) = live.rt.store.list_models(USER)
    assert [t["title"] for t in sandbox_tunes(live)] == [model.title]
    assert [e.delta for e in live.rt.store.ledger(USER)] == [3, -1]


def test_a_message_queued_by_a_killed_worker_is_sent_by_another_process(
    make_live, telegram, workers, rq_env
):
    live = make_live(**rq_env)
    send_photos(live, telegram, USER)
    live.post_update(f.message(USER, "Queued"))
    live.post_update(f.callback(USER, "cls:man"))  # charged: the upload job is queued
    telegram.wait_text(USER, "Uploading your photos")
    # Telegram makes the worker's "training has started" wait 60 s: it waits in its outbox
    telegram.fail("sendMessage", 429, retry_after=60, chat_id=USER)
    doomed = workers.start(live)
    telegram.wait_for(lambda calls: [c for c in calls if c.error == 429])
    journal = redis.Redis.from_url(rq_env["REDIS_URL"])
    eventually(lambda: [k for k in journal.keys("astria-bot:outbox:*:calls") if journal.hlen(k)])
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=5)
    # the web process's sweep sees the worker gone (3 s) and sends the message itself
    started = telegram.wait_text(USER, "Training of “Queued” has started", timeout=30)
    assert started.error is None
    assert not any(journal.hlen(k) for k in journal.keys("astria-bot:outbox:*:calls"))
    sweeps_after(live, 0, idle=False)  # the sweeps that adopt a dead process's messages ran
    assert sum("has started" in t for t in telegram.texts(USER)) == 1


def test_killing_the_web_process_and_the_worker_mid_upload_loses_nothing(
    tmp_path, telegram, workers, rq_env
):
    """The issue's own check: gunicorn and the worker killed (-9) while Astria takes the
    photos, then started again: the training finishes, once, from the photos kept in Redis."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **base_env(tmp_path, telegram),
        **rq_env,
        "PUBLIC_URL": url,
        "SECRET_KEY": "kill-9-secret-key",
    }
    sandbox_key = Settings.from_env({"SECRET_KEY": "kill-9-secret-key"}).sandbox_key

    def start() -> list[subprocess.Popen]:
        env_all = {**os.environ, **env}
        web = processes.spawn(processes.gunicorn(port, 1), env_all, tmp_path / "web.log", True)
        worker = processes.spawn(processes.WORKER, env_all, tmp_path / "worker.log", True)
        processes.wait_ready(url, 30)
        return [web, worker]

    def kill(procs) -> None:
        for proc in procs:  # the whole process group: gunicorn's master and its worker
            processes.kill(proc)

    procs = start()
    try:
        http = requests.Session()
        fault = {"kind": "delay", "method": "POST", "path": "/tunes", "body": "3"}
        sandbox = {"Authorization": f"Bearer {sandbox_key}"}
        http.post(f"{url}/astria-sandbox/_faults", json=fault, headers=sandbox, timeout=10)
        files = [("images", (f"p{n}.jpg", c, "image/jpeg")) for n, c in enumerate(good_photos())]
        answer = http.post(
            f"{url}/api/bot/train-model",
            files=files,
            data={"name": "Killed", "class_name": "man"},
            headers={"Authorization": f"tma {init_data(USER)}"},
            timeout=30,
        )
        assert answer.status_code == 201, answer.text
        faults = sqlite3.connect(tmp_path / "instance" / "astria-sandbox.sqlite3")
        used = "SELECT 1 FROM faults WHERE remaining > 0"
        eventually(lambda: faults.execute(used).fetchone() is None)  # Astria has the photos
        kill(procs)  # mid-upload: neither answer nor tune id was kept anywhere
        procs = start()
        telegram.wait_text(USER, "Your model “Killed” is ready!", timeout=60)
        settled(url, sandbox_key, rq_env)  # the moment a second notice would be out
        assert sum("is ready" in text for text in telegram.texts(USER)) == 1
        tunes = faults.execute("SELECT title FROM tunes").fetchall()
        assert len(tunes) == 1  # one tune: the second upload was the same one on Astria
        store = sqlite3.connect(tmp_path / "bot.sqlite3")
        ledger = store.execute("SELECT delta FROM credit_ledger ORDER BY id").fetchall()
        assert [d for (d,) in ledger] == [3, -1]  # charged once, never refunded
        assert staged(rq_env) == []
    finally:
        kill(procs)


def test_without_a_worker_or_redis_nothing_is_lost(make_live, telegram, rq_env, tmp_path):
    closed = make_live(REDIS_URL="redis://127.0.0.1:1/0")  # set, but nobody listening
    call(closed, "GET", "/api/bot/me")
    assert upload(closed, good_photos(), name="Local").status_code == 201
    telegram.wait_text(USER, "Your model “Local” is ready!", timeout=30)  # ran here instead


def test_a_redis_that_hangs_costs_one_timeout_not_one_per_request(make_live, telegram):
    hanging = socket.create_server(("127.0.0.1", 0), backlog=64)  # accepts, never answers
    try:
        port = hanging.getsockname()[1]
        live = make_live(REDIS_URL=f"redis://127.0.0.1:{port}/0")
        call(live, "GET", "/api/bot/me")
        took = []
        for n in range(4):
            started = time.monotonic()
            response = upload(live, good_photos(), name=f"Hung {n}", user_id=USER + n)
            took.append(time.monotonic() - started)
            assert response.status_code == 201
        for n in range(4):  # the work ran here, as without Redis
            telegram.wait_text(USER + n, f"Your model “Hung {n}” is ready!", timeout=30)
        # The first request waits out Redis's 2 s timeout (the limits, the photos, the job);
        # then Redis is left alone for a while. flask-limiter alone asks it again now and then
        # (after 2 s, 4 s, 8 s…): at most one later request pays that.
        assert took[0] >= 2 and all(t < 1.5 for t in sorted(took[1:])[:2]), took
    finally:
        hanging.close()


def test_an_album_cut_short_by_a_killed_worker_is_sent_again(make_live, telegram, workers, rq_env):
    live = make_live(**rq_env)
    workers.start(live)
    start_training(live, telegram, USER, name="Album")
    telegram.wait_text(USER, "Your model “Album” is ready!", timeout=30)
    (model,) = live.rt.store.list_models(USER)
    telegram.fail("sendMediaGroup", 200, hang=6)  # Telegram takes its time with the album
    doomed = workers.procs[0]
    live.post_update(f.callback(USER, f"sty:{model.id}:noir"))
    telegram.wait_for(lambda calls: [c for c in calls if c.method == "sendMediaGroup"])
    doomed.send_signal(signal.SIGKILL)  # mid-send: the album's answer never comes back
    doomed.wait(timeout=5)
    workers.start(live)
    telegram.wait_text(USER, "Want more pictures with “Album”?", timeout=60)
    eventually(lambda: live.rt.store.generations_awaiting_delivery() == [])  # marked just after
    # at least once: the album Telegram had already taken is sent again, never not at all
    assert len(telegram.calls_to("sendMediaGroup", USER)) >= 1
