"""Several instances: two app processes (gunicorn, two workers each) and two RQ workers against
one PostgreSQL (behind PostgREST, as Supabase) and one Redis. Every update is delivered to both
instances at once, as a load balancer and a Telegram redelivery can; the guarantees hold: one
reply per update, one charge per action, one notification per outcome, one admin alert per
window across all processes, and the flood limit counted across all of them."""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import pytest
import redis
import requests

from tests import factories as f, processes
from tests.live import WEBHOOK_SECRET, base_env
from tests.processes import free_port
from tests.support import eventually, init_data, redis_url, rq_settled, stop_processes

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "topology-secret-key"
ADMIN = 999


class Topology:
    """The processes, and how to reach both instances."""

    def __init__(self, tmp_path: Path, env: dict) -> None:
        self.tmp_path = tmp_path
        self.env = env
        self.procs: list[subprocess.Popen] = []
        self.urls: list[str] = []
        self.http = requests.Session()

    def start(self) -> None:
        env = {**os.environ, **self.env}
        for n, url in enumerate(self.urls):
            port = int(url.rsplit(":", 1)[1])
            log = self.tmp_path / f"app-{n}.log"
            self.procs.append(processes.spawn(processes.gunicorn(port), env, log))
        for n in range(2):
            log = self.tmp_path / f"worker-{n}.log"
            self.procs.append(processes.spawn(processes.WORKER, env, log))
        for url in self.urls:
            processes.wait_ready(url, 40, why=self.logs)

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
            for p in sorted(self.tmp_path.glob("*.log"))
        )

    def both(self, update: dict) -> list[int]:
        """Deliver one update to both instances at once (a delivery Telegram gave up on and
        its redelivery, or a load balancer's retry); their statuses. Telegram reads one answer:
        the first 200 (the other went to a connection it had left)."""
        headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        read = threading.Lock()
        answered = []

        def post(url):
            response = self.http.post(
                f"{url}/api/bot/webhook", json=update, headers=headers, timeout=30
            )
            with read:
                if response.status_code == 200 and not answered:
                    answered.append(response)
                    self.telegram.webhook_answered(response)
            return response.status_code

        with ThreadPoolExecutor(2) as pool:
            return list(pool.map(post, self.urls))

    def one(self, n: int, update: dict) -> int:
        headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        url = self.urls[n % 2]
        response = self.http.post(
            f"{url}/api/bot/webhook", json=update, headers=headers, timeout=30
        )
        self.telegram.webhook_answered(response)
        return response.status_code

    def sandbox(self, table: str) -> list[tuple]:
        """The rows of the Astria sandbox's `table` (tunes, prompts), read from its file."""
        path = self.tmp_path / "instance" / "astria-sandbox.sqlite3"
        with closing(sqlite3.connect(path)) as db:
            return db.execute(f"SELECT id FROM {table}").fetchall()

    def fault(self, **spec) -> None:
        digest = hmac.new(SECRET_KEY.encode(), b"astria-sandbox", hashlib.sha256).hexdigest()
        response = self.http.post(
            f"{self.urls[0]}/astria-sandbox/_faults",
            json=spec,
            headers={"Authorization": f"Bearer sandbox_{digest}"},
            timeout=10,
        )
        response.raise_for_status()

    def stop(self) -> None:
        assert stop_processes(self.procs, timeout=10) == [], "a process ignored SIGTERM"


@pytest.fixture
def topology(tmp_path, telegram, supabase):
    supabase.reset()
    url = redis_url()
    redis.Redis.from_url(url).flushdb()
    urls = [f"http://127.0.0.1:{free_port()}" for _ in range(2)]
    env = {
        **base_env(tmp_path, telegram),
        "PUBLIC_URL": urls[0],  # Astria's callbacks and the sandbox: one public address
        "SECRET_KEY": SECRET_KEY,
        "SUPABASE_URL": supabase.url,
        "SUPABASE_SERVICE_ROLE_KEY": supabase.service_role_key,
        "REDIS_URL": url,
        "ADMIN_CHAT_IDS": str(ADMIN),
        "FLOOD_MESSAGES": "10",
        "SWEEP_SECONDS": "2",
    }
    made = Topology(tmp_path, env)
    made.urls, made.telegram = urls, telegram
    made.start()
    yield made
    made.stop()
    logs = made.logs()
    assert "Traceback" not in logs, logs


def test_two_instances_and_two_workers_keep_every_guarantee(topology, telegram):
    user = 7100
    # one reply per update, though each reaches both instances at once
    assert topology.both(f.message(user, "/start")) == [200, 200]
    # (an update's messages are sent, or queued, before its webhook answer: none is late here)
    assert sum(t.startswith("Hi, Ann!") for t in telegram.texts(user)) == 1

    # a whole training, every step delivered twice: one charge, one notice of each kind
    topology.both(f.message(user, "/train"))
    for n in range(4):
        telegram.add_file(f"top-{n}", f.jpeg(700 + n, 700))
        topology.both(f.photo(user, f"top-{n}", 700 + n, 700))
    topology.both(f.message(user, "Both"))
    topology.both(f.callback(user, "cls:man"))
    eventually(lambda: any("“Both” is ready" in t for t in telegram.texts(user)), 40)
    # a style, tapped once but delivered twice: one charge, one album (the workers send it)
    model_id = 1
    topology.both(f.callback(user, f"sty:{model_id}:noir"))
    eventually(lambda: telegram.calls_to("sendMediaGroup", user), 40)
    rq_settled(topology.env["REDIS_URL"])  # when a second album or notice would be out
    assert len(topology.sandbox("prompts")) == len(topology.sandbox("tunes")) == 1
    texts = telegram.texts(user)
    assert sum("“Both” is ready" in t for t in texts) == 1
    assert sum(t.startswith("Uploading your photos") for t in texts) == 1
    assert sum(t.startswith("Creating 4 images") for t in texts) == 1
    assert len(telegram.calls_to("sendMediaGroup", user)) == 1

    # the flood limit is counted across all four web workers
    flooder = 7200
    for n in range(24):
        assert topology.one(n, f.message(flooder, f"hello {n}")) == 200
    answered = telegram.calls_to("sendMessage", flooder)
    # 10 replies and a warning (each process counting alone would answer up to 24)
    assert 10 <= len(answered) <= 11, [c.text for c in answered]

    # the Mini App's write limit (10 a minute per user) is counted across all of them too
    auth = {"Authorization": f"tma {init_data(7400)}"}
    statuses = [
        topology.http.post(
            f"{topology.urls[n % 2]}/api/bot/generate", json={"model_id": 99999}, headers=auth
        ).status_code
        for n in range(14)
    ]
    assert statuses.count(429) == 4, statuses  # one process alone would have allowed all 14

    # Astria refusing our key alerts the admins once, though both workers meet it
    topology.fault(kind="http", method="POST", path="/tunes", status=401, times=8)
    for n, other in enumerate((7300, 7301)):
        topology.one(n, f.message(other, "/train"))
        for k in range(4):
            telegram.add_file(f"k{other}-{k}", f.jpeg(800 + k, 800))
            topology.one(n, f.photo(other, f"k{other}-{k}", 800 + k, 800))
        topology.one(n, f.message(other, "Keyless"))
        topology.one(n, f.callback(other, "cls:man"))
    for other in (7300, 7301):
        eventually(
            lambda other=other: any("couldn't train" in t for t in telegram.texts(other)), 40
        )
    # (a worker alerts before it tells its user: a second alert would be out by now)
    alerts = [t for t in telegram.texts(ADMIN) if "astria_key_refused" in t]
    assert len(alerts) == 1, telegram.texts(ADMIN)
