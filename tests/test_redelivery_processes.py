"""An update whose gunicorn worker is killed (-9) mid-update is handled when Telegram delivers it
again, by another worker, once: on SQLite and on Supabase, as deployed (gunicorn with two
workers, the RQ worker, Redis). The worker is held at a point the test knows (its photo's
download from Telegram; on Supabase, the update's done mark waiting on a row lock after the
charge), killed there, and the update delivered again. And a redelivery that comes while the
first worker is alive gets its 200 without being handled twice."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis

from tests import factories as f
from tests.live import base_env
from tests.supabase_stack import PG
from tests.support import eventually, free_port, redis_url
from tests.test_durability import Deployment

DB = 7  # a Redis database of its own, emptied for each test
LEASE = 2  # seconds: a dead worker's claim runs out this long after its last renewal


@pytest.fixture
def deployment(request, store_env, tmp_path, telegram):
    url = redis_url().rsplit("/", 1)[0] + f"/{DB}"
    redis.Redis.from_url(url).flushdb()
    stack = request.getfixturevalue("supabase") if store_env else None
    env = {
        **base_env(tmp_path, telegram),
        **store_env,
        "PUBLIC_URL": f"http://127.0.0.1:{free_port()}",
        "REDIS_URL": url,
        "SWEEP_SECONDS": "1",
        "UPDATE_LEASE_SECONDS": str(LEASE),
    }
    made = Deployment(tmp_path, env, stack)
    made.start()
    yield made
    made.kill()
    redis.Redis.from_url(url).flushdb()
    assert "Traceback" not in made.logs(), made.logs()


def worker_calling_from(deployment: Deployment, port: int) -> int:
    """The pid of the deployment's process whose TCP connection has local port `port` (the one
    the Bot API stand-in saw a request come from)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            next(rows)
            for row in rows:
                fields = row.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    for pid in deployment.app_pids():
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                return pid
    raise AssertionError(f"no process of the deployment calls from port {port}")


def counted(texts: list[str]) -> Counter:
    return Counter(texts)


def three_photos(deployment, telegram, user: int) -> None:
    for update in (f.message(user, "/start"), f.message(user, "/train")):
        assert deployment.post(update, telegram)
    for n in range(3):
        telegram.add_file(f"{user}-{n}", f.jpeg(700 + n, 700))
        assert deployment.post(f.photo(user, f"{user}-{n}", 700 + n, 700), telegram)


def finish_training(deployment, telegram, user: int) -> None:
    """The rest of the journey: a name, a class; the model is trained and the user told."""
    assert deployment.post(f.message(user, "Me"), telegram)
    assert deployment.post(f.callback(user, "cls:man"), telegram)
    eventually(lambda: any("is ready" in t for t in telegram.texts(user)), timeout=30)


def check_once(deployment, telegram, user: int) -> None:
    """One model, charged once, every reply once, the balance its ledger's sum."""
    texts = telegram.texts(user)
    assert not [t for t, n in Counter(texts).items() if n > 1], texts
    assert deployment.query(
        f"SELECT COUNT(*) FROM telegram_models WHERE telegram_user_id = {user}"
    ) == [(1,)]
    assert deployment.query(
        f"SELECT COUNT(*) FROM credit_ledger WHERE telegram_user_id = {user} AND reason = 'train'"
    ) == [(1,)]
    [(credits, ledger)] = deployment.query(
        f"SELECT credits, (SELECT SUM(delta) FROM credit_ledger WHERE telegram_user_id = {user}) "
        f"FROM telegram_users WHERE telegram_id = {user}"
    )
    assert credits == ledger


def test_a_worker_killed_mid_update_leaves_it_to_the_next_delivery(deployment, telegram):
    """The worker dies while it downloads the user's fourth photo: Telegram gets no answer and
    delivers the photo again; another worker takes it over once the dead one's claim has run
    out, and the photo counts once (the issue's stuck users: their photo was simply gone)."""
    user = 4100
    three_photos(deployment, telegram, user)
    telegram.add_file("last", f.jpeg(720, 700))
    hold = telegram.hold_file("last-s")  # the handler reads the photo's preview
    update = f.photo(user, "last", 720, 700)
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(deployment.post, update, telegram)
        assert hold.reached.wait(20), deployment.logs()
        victim = worker_calling_from(deployment, hold.ports[0])
        os.kill(victim, signal.SIGKILL)
        assert first.result(timeout=30) is False  # no answer: Telegram will deliver it again
    hold.release()
    started = time.monotonic()
    assert deployment.post(update, telegram)  # to the other worker (the killed one is gone)
    assert time.monotonic() - started < LEASE + 5
    said = counted(telegram.texts(user))
    assert sum(n for t, n in said.items() if t.startswith("All 4 photos received")) == 1, said
    finish_training(deployment, telegram, user)
    check_once(deployment, telegram, user)


def test_a_redelivery_while_the_first_worker_is_alive_is_answered_and_not_handled(
    deployment, telegram
):
    user = 4200
    three_photos(deployment, telegram, user)
    telegram.add_file("last", f.jpeg(720, 700))
    hold = telegram.hold_file("last-s")  # the handler reads the photo's preview
    update = f.photo(user, "last", 720, 700)
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(deployment.post, update, telegram)
        assert hold.reached.wait(20), deployment.logs()
        started = time.monotonic()
        assert deployment.post(update, telegram)  # Telegram gave up waiting and sent it again
        assert time.monotonic() - started < LEASE  # answered once the holder is seen alive
        assert not first.done()  # … while the first is still at work
        hold.release()
        assert first.result(timeout=30) is True
    assert len(hold.ports) == 1  # the photo was downloaded by the first worker alone
    finish_training(deployment, telegram, user)
    check_once(deployment, telegram, user)


class RowLock:
    """An operator's psql session holding a row lock (SELECT … FOR UPDATE) until `release`."""

    def __init__(self, stack, sql: str) -> None:
        self.stack = stack
        self.proc = subprocess.Popen(
            [
                "psql",
                "-h",
                PG["host"],
                "-p",
                PG["port"],
                "-U",
                PG["user"],
                "-d",
                stack.database,
                "-qtA",
                "-v",
                "ON_ERROR_STOP=1",
            ],  # fmt: skip
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        self.proc.stdin.write(f"BEGIN; {sql} FOR UPDATE;\n")
        self.proc.stdin.flush()
        eventually(lambda: self.waiting("idle in transaction", "FOR UPDATE"))
        assert self.stack.psql(f"SELECT COUNT(*) FROM ({sql}) locked") == "1"

    def waiting(self, state: str, query: str) -> int:
        return int(
            self.stack.psql(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE state = "
                f"'{state}' AND query LIKE '%{query}%' AND pid <> pg_backend_pid()"
            )
        )

    def blocked(self) -> list[int]:
        """The backends waiting for a lock (a request of the app's stuck behind this one)."""
        found = self.stack.psql(
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND pid <> pg_backend_pid()"
        )
        return [int(p) for p in found.split()]

    def release(self) -> None:
        self.proc.stdin.write("ROLLBACK;\n")
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


@pytest.mark.parametrize("store_env", ["supabase"], indirect=True)
def test_a_worker_killed_after_the_charge_leaves_one_model_and_one_reply(deployment, telegram):
    """On Supabase the worker is held after it has charged the user and made the model: its
    done mark (with the chat state it clears) waits on a row an operator's psql has locked.
    The worker is killed there; its transaction never commits; Telegram delivers the button
    press again: one model, one charge, one "Uploading your photos" reply."""
    user = 4300
    three_photos(deployment, telegram, user)
    telegram.add_file("last", f.jpeg(720, 700))
    assert deployment.post(f.photo(user, "last", 720, 700), telegram)
    assert deployment.post(f.message(user, "Me"), telegram)
    lock = RowLock(  # the user's chat state: the done mark clears it
        deployment.supabase,
        f"SELECT * FROM conversation_states WHERE key LIKE 'state:%:{user}:{user}'",
    )
    update = f.callback(user, "cls:man")
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(deployment.post, update, telegram)
        [stuck] = eventually(lock.blocked)  # the done mark, after the model and its charge
        assert deployment.query(
            f"SELECT COUNT(*) FROM credit_ledger WHERE telegram_user_id = {user} "
            "AND reason = 'train'"
        ) == [(1,)]
        workers = [p for p in deployment.app_pids() if _is_gunicorn_worker(p)]
        for pid in workers:  # the one handling it is among them; both die (gunicorn starts two)
            os.kill(pid, signal.SIGKILL)
        assert first.result(timeout=30) is False
        deployment.supabase.psql(f"SELECT pg_terminate_backend({stuck})")  # its request ends
    lock.release()
    assert deployment.post(update, telegram)  # again, to a new worker, after the lease
    said = counted(telegram.texts(user))
    assert sum(n for t, n in said.items() if t.startswith("Uploading your photos")) == 1, said
    # its photos reach Astria once (the job the killed worker queued, or the sweep)
    tune = f"SELECT model_id FROM telegram_models WHERE telegram_user_id = {user}"
    eventually(lambda: deployment.query(tune)[0][0] not in (None, ""), timeout=30)
    check_once(deployment, telegram, user)


def _is_gunicorn_worker(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        parent_cmdline = Path(f"/proc/{parent}/cmdline").read_bytes()
    except (OSError, ValueError, IndexError):
        return False
    return b"gunicorn" in b" ".join(cmdline) and b"gunicorn" in parent_cmdline
