"""The embedded store on one machine, under every process we run beside it: gunicorn (two
workers), the RQ worker, `flask --app wsgi …` commands run while they serve, an operator's plain
`sqlite3` session; then `kill -9` of all of it mid-work, a restart, and again. Nothing the app
acknowledged is lost, the file stays whole, and the write-ahead log the app writes is the one on
disk (SQLite's locks are per process: a process that drops them lets another one delete the log
under it, and every write after that vanishes with the next crash)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
import requests

from tests import factories as f, processes
from tests.live import WEBHOOK_SECRET, base_env
from tests.processes import die_with_parent, free_port
from tests.support import eventually, redis_url
from webapp.settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 3


@dataclass
class Acknowledged:
    """What the app answered 200 for, so must keep whatever happens next."""

    users: set[int] = field(default_factory=set)
    updates: set[int] = field(default_factory=set)  # update ids claimed (all but payments)
    charges: dict[str, int] = field(default_factory=dict)  # Stars charge id -> user
    models: set[tuple[int, str]] = field(default_factory=set)  # (user, model name)
    generations: dict[int, int] = field(default_factory=dict)  # user -> prompts asked for
    lock: threading.Lock = field(default_factory=threading.Lock)


class Deployment:
    """gunicorn (two workers) and `flask --app wsgi worker` on one SQLite file, started as an
    operator starts them, each in a process group of its own so that `kill -9` takes all of it."""

    def __init__(self, tmp_path: Path, env: dict, supabase=None) -> None:
        self.tmp_path = tmp_path
        self.supabase = supabase  # the Supabase stand-in the app uses, or None for SQLite
        self.env = {**os.environ, **env}
        self.url = env["PUBLIC_URL"]
        self.db_path = tmp_path / "bot.sqlite3"
        self.sandbox_path = Path(env["INSTANCE_PATH"]) / "astria-sandbox.sqlite3"
        self.procs: list[subprocess.Popen] = []
        self.http = requests.Session()
        self.refused: list[str] = []  # answers other than 200 (there should be none)
        self.runs = 0

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = self.tmp_path / f"{name}-{self.runs}.log"
        proc = processes.spawn(args, self.env, log, group=True)
        self.procs.append(proc)
        return proc

    def start(self) -> None:
        self.runs += 1
        self._spawn("gunicorn", processes.gunicorn(int(self.url.rsplit(":", 1)[1])))
        self._spawn("worker", processes.WORKER)
        processes.wait_ready(self.url, 40, why=self.logs)

    def kill(self) -> None:
        """kill -9 of every process of the deployment at once: no clean-up runs anywhere."""
        for proc in self.procs:
            processes.kill(proc)
        self.procs.clear()

    def command(self, *args: str, fails: bool = False, **env: str) -> str:
        """`flask --app wsgi <args>` run to its end beside the serving app, as an operator would
        (it must succeed, or fail when `fails`); what it printed."""
        proc = subprocess.Popen(
            [sys.executable, "-X", "faulthandler", "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT,
            env={**self.env, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            output, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:  # a hang: SIGABRT makes faulthandler print each stack
            proc.send_signal(signal.SIGABRT)
            output, _ = proc.communicate()
        with open(self.tmp_path / "commands.log", "a") as log:
            log.write(f"$ flask {' '.join(args)}\n{output}\n")
        assert (proc.returncode != 0) == fails, output
        return output

    def query(self, sql: str) -> list[tuple]:
        """Rows of the app's store, read beside it (integers as ints, the rest as text)."""
        if self.supabase is None:
            db = sqlite3.connect(self.db_path)
            try:
                return db.execute(sql).fetchall()
            finally:
                db.close()
        return psql_rows(self.supabase, sql)

    def operator_reads(self) -> int:
        """An operator's plain `sqlite3` session on the live file (the sqlite3 shell where it is
        installed, else Python's own binding in a process of its own; psql on Supabase): the
        users it sees."""
        query = "SELECT COUNT(*) FROM telegram_users;"
        if self.supabase is not None:  # an operator's psql
            return self.query(query)[0][0]
        if shutil.which("sqlite3"):
            args = ["sqlite3", str(self.db_path), query]
        else:
            assert os.environ.get("CI") != "true", "the sqlite3 shell is missing (make tools)"
            script = (
                "import sqlite3, sys; "
                "print(*sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone())"
            )
            args = [sys.executable, "-c", script, str(self.db_path), query]
        done = subprocess.run(args, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        return int(done.stdout.strip())

    def app_pids(self) -> list[int]:
        """Every process of the deployment (gunicorn's master and workers, the RQ worker)."""
        pids = []
        for proc in self.procs:
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    try:
                        if os.getpgid(int(entry.name)) == proc.pid:
                            pids.append(int(entry.name))
                    except ProcessLookupError:
                        pass
        return pids

    def stray_wals(self) -> list[str]:
        """Write-ahead logs (the store's, the Astria sandbox's) that a process of the deployment
        has open but that are not the file on disk (deleted or replaced under it): [] when all
        is well."""
        wrong = []
        for path in self.databases():
            wal = Path(f"{path}-wal")
            on_disk = wal.stat().st_ino if wal.exists() else None
            for pid, fd, target in self._open_files():
                if target.startswith(str(wal)) and (
                    target != str(wal) or fd.stat().st_ino != on_disk
                ):
                    wrong.append(f"pid {pid}: {target}")
        return wrong

    def unlocked(self) -> list[str]:
        """Processes of the deployment that have a database file (the store's, the sandbox's)
        open without holding SQLite's lock on it (which tells every other process the file is
        in use; without it, one that closes its last connection deletes the log): [] when all
        is well. A process opening its first connection this instant is looked at again."""
        for _ in range(3):
            with open("/proc/locks") as table:  # "1: POSIX ADVISORY READ <pid> fe:00:<inode> …"
                rows = [f for f in map(str.split, table) if f[1] != "->"]  # not waiters
            held = {(int(f[4]), f[5].rsplit(":", 1)[1]) for f in rows}
            files = {str(path): str(path.stat().st_ino) for path in self.databases()}
            wrong = [
                f"pid {pid}: {target}"
                for pid, _, target in self._open_files()
                if target in files and (pid, files[target]) not in held
            ]
            if not wrong:
                return []
            time.sleep(0.1)
        return wrong

    def databases(self) -> list[Path]:
        """The SQLite files the deployment writes."""
        return [path for path in (self.db_path, self.sandbox_path) if path.exists()]

    def _open_files(self) -> list[tuple[int, Path, str]]:
        """(pid, /proc/<pid>/fd/<n>, what it points to) for every process of the deployment."""
        found = []
        for pid in self.app_pids():
            try:
                fds = list(Path(f"/proc/{pid}/fd").iterdir())
            except OSError:
                continue
            for fd in fds:
                try:
                    found.append((pid, fd, os.readlink(fd)))
                except OSError:
                    continue
        return found

    def post(self, update: dict, telegram) -> bool:
        """Deliver an update as Telegram does; whether the app acknowledged it (a 200)."""
        try:  # a connection of its own (a kept-alive one may be closed by gunicorn meanwhile)
            response = requests.post(
                f"{self.url}/api/bot/webhook",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
                timeout=30,
            )
        except requests.RequestException:  # killed mid-request: not acknowledged
            return False
        telegram.webhook_answered(response)
        if response.status_code != 200:
            self.refused.append(f"{response.status_code} {response.text[:200]}")
        return response.status_code == 200

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')}"
            for p in sorted(self.tmp_path.glob("*.log"))
        )


def psql_rows(stack, sql: str) -> list[tuple]:
    """Rows of a query on the Supabase stand-in's database (integers as ints, the rest as
    text), as an operator's psql prints them."""
    return [
        tuple(int(v) if v.lstrip("-").isdigit() else v for v in line.split("|"))
        for line in stack.psql(sql).splitlines()
    ]


class Journeys:
    """Users doing what users do (sign up, buy credits, train, generate), several at once; each
    step that got a 200 is written down in `acked`."""

    def __init__(self, deployment: Deployment, telegram) -> None:
        self.app = deployment
        self.telegram = telegram
        self.acked = Acknowledged()
        self.stopped = threading.Event()

    def _post(self, update: dict) -> bool:
        if self.stopped.is_set():
            return False
        ok = self.app.post(update, self.telegram)
        if ok and "successful_payment" not in update.get("message", {}):  # payments: no claim
            with self.acked.lock:
                self.acked.updates.add(update["update_id"])
        return ok

    def sign_up(self, user: int) -> bool:
        if self._post(f.message(user, "/start")):
            with self.acked.lock:
                self.acked.users.add(user)
            return True
        return False

    def keep_signing_up(self, first: int, most: int = 400) -> int:
        """New users, one after another, until the deployment is killed (or `most` of them):
        how many got a 200."""
        user = first
        while user - first < most and self.sign_up(user):
            user += 1
        return user - first

    def buy(self, user: int) -> None:
        if not (self.sign_up(user) and self._post(f.message(user, "/buy"))):
            return
        if not self._post(f.callback(user, "buy:10")):
            return
        invoices = self.telegram.calls_to("sendInvoice", user)
        if not invoices:
            return
        payload = invoices[-1].params["payload"]
        if not self._post(f.pre_checkout(user, payload, 100)):
            return
        charge_id = self.telegram.charge(user, 100)
        if self._post(f.successful_payment(user, payload, 100, charge_id)):
            with self.acked.lock:
                self.acked.charges[charge_id] = user

    def train(self, user: int, name: str) -> None:
        if not (self.sign_up(user) and self._post(f.message(user, "/train"))):
            return
        for n in range(4):
            file_id = f"{user}-{name}-{n}"
            self.telegram.add_file(file_id, f.jpeg(700 + n, 700))
            if not self._post(f.photo(user, file_id, 700 + n, 700)):
                return
        if self._post(f.message(user, name)) and self._post(f.callback(user, "cls:man")):
            with self.acked.lock:
                self.acked.models.add((user, name))

    def generate(self, user: int, model_id: int) -> None:
        if self._post(f.callback(user, f"sty:{model_id}:noir")):
            with self.acked.lock:
                self.acked.generations[user] = self.acked.generations.get(user, 0) + 1


def ready_models(deployment: Deployment) -> dict[int, int]:
    """user -> one of their models Astria has trained (a plain reader of the live store)."""
    return dict(
        deployment.query(
            "SELECT telegram_user_id, MAX(id) FROM telegram_models "
            "WHERE status = 'ready' GROUP BY telegram_user_id"
        )
    )


@contextmanager
def deployed(request, store_env: dict, tmp_path: Path, telegram, **settings: str):
    """A Deployment (not started) on the store `store_env` chooses, with this test worker's
    Redis database emptied for it and after it, sweeping every second, and `settings` on top;
    killed after."""
    url = redis_url()
    redis.Redis.from_url(url).flushdb()
    stack = request.getfixturevalue("supabase") if store_env else None
    env = {
        **base_env(tmp_path, telegram),
        **store_env,
        "PUBLIC_URL": f"http://127.0.0.1:{free_port()}",
        "REDIS_URL": url,
        "SWEEP_SECONDS": "1",
        **settings,
    }
    made = Deployment(tmp_path, env, stack)
    try:
        yield made
    finally:
        made.kill()
        redis.Redis.from_url(url).flushdb()


@pytest.fixture
def deployment(request, store_env, tmp_path, telegram):
    """The deployment on each store in turn (conftest's store_env)."""
    with deployed(request, store_env, tmp_path, telegram, UPLOAD_LEASE_SECONDS="3") as made:
        yield made


@pytest.mark.long  # started first: it sets how long the run takes
def test_every_acknowledged_write_survives_commands_readers_and_kill_9(deployment, telegram):
    """The issue's scenario, three times over: serve, run the operator's commands and a reader
    beside it, more users, kill -9 of everything mid-work, restart; then every acknowledged
    write is there, balances equal their ledgers, the file is whole and its log is on disk."""
    journeys = Journeys(deployment, telegram)
    base = 8_000_000
    for round_ in range(ROUNDS):
        deployment.start()
        journeys.stopped.clear()
        users = [base + 1000 * round_ + n for n in range(40)]
        with ThreadPoolExecutor(8) as pool:
            # before the commands: users sign up, buy, train, and generate on older models
            ready = ready_models(deployment)
            first = [pool.submit(journeys.sign_up, u) for u in users[:10]]
            first += [pool.submit(journeys.buy, u) for u in users[10:14]]
            first += [pool.submit(journeys.train, u, f"R{round_}") for u in users[14:18]]
            first += [pool.submit(journeys.generate, u, m) for u, m in list(ready.items())[:4]]
            for future in first:
                future.result(timeout=60)
            # the operator's commands and a plain reader, while the app serves
            deployment.command("reconcile")
            deployment.command("set-webhook", PUBLIC_URL="https://bot.example.com")
            backed_up = set(journeys.acked.users)
            check_backup(deployment, round_, backed_up)
            signed_up = len(journeys.acked.users)
            assert deployment.operator_reads() >= signed_up
            # more users, and users arriving all the time, then kill -9 of everything mid-work
            chatter = pool.submit(journeys.keep_signing_up, base + 1000 * round_ + 500)
            later = [pool.submit(journeys.buy, u) for u in users[18:22]]
            later += [pool.submit(journeys.train, u, f"S{round_}") for u in users[22:26]]
            for future in later:
                future.result(timeout=60)
            assert deployment.stray_wals() == [], "a log the app writes is not on disk"
            assert deployment.unlocked() == [], "a process lost its lock on a database"
            signed_up = len(journeys.acked.users)  # (the reader may see a few more, not fewer)
            assert deployment.operator_reads() >= signed_up
            deployment.kill()
            journeys.stopped.set()
            assert 0 < chatter.result() < 400  # it was still signing users up when killed
        check_store(deployment, journeys.acked)

    acked = journeys.acked
    assert len(acked.charges) >= 8 and len(acked.models) >= 8 and acked.generations, acked

    assert deployment.refused == []
    deployment.start()  # and it starts again on what the crashes left
    assert deployment.stray_wals() == [] and deployment.unlocked() == []
    check_store(deployment, journeys.acked)
    logs = deployment.logs()
    assert "disk I/O error" not in logs, logs[-5000:]
    assert "Traceback" not in logs, logs[-5000:]


def check_backup(deployment: Deployment, round_: int, users: set[int]) -> None:
    """`flask --app wsgi backup` beside the serving app: a copy that opens on its own, whole,
    readable by its owner only, with every user acknowledged before it began (on Supabase the
    command refuses and says whose backups those are)."""
    copy = deployment.tmp_path / "backups" / f"bot-{round_}.sqlite3"
    copy.parent.mkdir(exist_ok=True)
    if deployment.supabase is not None:
        assert "Supabase's own" in deployment.command("backup", str(copy), fails=True)
        return
    # never over a live database or its log (it would lose what the app writes after)
    for live in (f"{deployment.db_path}-wal", deployment.sandbox_path, deployment.db_path):
        refused = deployment.command("backup", str(live), fails=True)
        assert "choose another path" in refused or "the database itself" in refused
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], text=True,
                          capture_output=True, check=True).stdout.strip()  # fmt: skip
    left = copy.parent / f".{copy.name}.{dead}.part"  # what a backup killed midway left
    left.write_bytes(b"half a copy")
    deployment.command("backup", str(copy))
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert [p.name for p in copy.parent.iterdir()] == [copy.name]  # one file, nothing aside
    db = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        held = {u for (u,) in db.execute("SELECT telegram_id FROM telegram_users")}
    finally:
        db.close()
    assert users <= held, f"{len(users - held)} users missing from the backup"
    copy.unlink()


def check_store(deployment: Deployment, acked: Acknowledged) -> None:
    """Everything acknowledged is in the store, balances equal ledgers, the SQLite files (the
    store's, the Astria sandbox's) are whole, and the sandbox kept every tune and prompt it said
    it made."""
    query = deployment.query
    # what the store was told first, then what the sandbox holds (the app may be running)
    told = {str(t) for (t,) in query("SELECT model_id FROM telegram_models") if t not in (None, "")}
    asked = {str(p) for (p,) in query("SELECT prompt_id FROM telegram_prompts") if p}
    sandbox = sqlite3.connect(deployment.sandbox_path)
    try:
        assert sandbox.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        tunes = {str(t) for (t,) in sandbox.execute("SELECT id FROM tunes")}
        prompts = {str(p) for (p,) in sandbox.execute("SELECT id FROM prompts")}
    finally:
        sandbox.close()
    assert told <= tunes, f"tunes the sandbox made and lost: {told - tunes}"
    assert asked <= prompts, f"prompts the sandbox made and lost: {asked - prompts}"
    if deployment.supabase is None:
        assert query("PRAGMA integrity_check") == [("ok",)]
    users = {u for (u,) in query("SELECT telegram_id FROM telegram_users")}
    assert acked.users <= users, f"{len(acked.users - users)} acknowledged users lost"
    updates = {u for (u,) in query("SELECT update_id FROM processed_updates")}
    assert acked.updates <= updates, f"{len(acked.updates - updates)} acknowledged updates lost"
    charges = {str(c): u for c, u in query("SELECT charge_id, telegram_user_id FROM payments")}
    lost = {c: u for c, u in acked.charges.items() if charges.get(c) != u}
    assert not lost, f"payments lost: {lost}"
    purchases = {
        str(r) for (r,) in query("SELECT ref FROM credit_ledger WHERE reason = 'purchase'")
    }
    assert set(acked.charges) <= purchases, "a payment without its credits"
    models = set(query("SELECT telegram_user_id, name FROM telegram_models"))
    assert acked.models <= models, f"models lost: {acked.models - models}"
    counted = dict(query("SELECT telegram_user_id, COUNT(*) FROM telegram_prompts GROUP BY 1"))
    short = {u: n for u, n in acked.generations.items() if counted.get(u, 0) < n}
    assert not short, f"generations lost: {short}"
    unbalanced = query(
        "SELECT u.telegram_id, u.credits, COALESCE(SUM(l.delta), 0) FROM telegram_users u "
        "LEFT JOIN credit_ledger l ON l.telegram_user_id = u.telegram_id "
        "GROUP BY u.telegram_id, u.credits HAVING u.credits != COALESCE(SUM(l.delta), 0)"
    )
    assert unbalanced == [], f"balances that are not the sum of their ledger: {unbalanced}"


KEY_PROCESS = (
    "import sys; from webapp.settings import Settings; "
    "print(Settings.from_env({}).with_instance(sys.argv[1]).secret_key)"
)


def test_the_instance_key_is_made_once_and_whole_though_its_makers_are_killed(tmp_path):
    """Several processes start at once on a new instance folder (gunicorn's workers, the RQ
    worker, a flask command) and some are killed -9 at any point while they make the signing
    key: every process that starts agrees on one key, whole, readable by the owner only, and
    what the killed ones left aside is cleared away later."""
    chance = random.Random(19)
    for round_ in range(6):
        folder = tmp_path / f"instance-{round_}"
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", KEY_PROCESS, str(folder)],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                preexec_fn=die_with_parent,
            )
            for _ in range(6)
        ]
        doomed = procs[::2]
        for proc in doomed:  # at any point of its start (about half a second to the key)
            time.sleep(chance.uniform(0, 0.25))
            proc.kill()
        keys = set()
        for proc in procs:
            out, err = proc.communicate(timeout=60)
            if proc not in doomed:
                assert proc.returncode == 0, err
                keys.add(out.strip())
        key_file = folder / "secret_key"
        assert keys == {key_file.read_text()} and len(keys.pop()) == 43  # token_urlsafe(32)
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        later = subprocess.run(
            [sys.executable, "-c", KEY_PROCESS, str(folder)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert later.stdout.strip() == key_file.read_text()
    # what a killed maker left aside goes once it is stale (a live one writes in a moment)
    folder = tmp_path / "instance-0"
    left = folder / ".secret_key.1.abcd1234"
    left.write_text("x")
    os.utime(left, (time.time() - 3600, time.time() - 3600))
    fresh = folder / ".secret_key.2.abcd1234"
    fresh.write_text("y")
    key = Settings.from_env({}).with_instance(str(folder)).secret_key
    assert not left.exists() and fresh.exists() and key == (folder / "secret_key").read_text()
    # an operator's own file beside the key is never taken for one left aside
    mine = folder / ".secret_key.bak"
    mine.write_text("the operator's")
    os.utime(mine, (time.time() - 3600, time.time() - 3600))
    assert Settings.from_env({}).with_instance(str(folder)).secret_key == key and mine.exists()
    # a key changed by someone else (an edit, a broken disk) stops the app, saying what to do
    key_file = folder / "secret_key"
    for damage in ("", key[:42], key + "x", key[:42] + "!"):
        key_file.write_text(damage)
        with pytest.raises(SettingsError, match="secret_key is damaged"):
            Settings.from_env({}).with_instance(str(folder))
    key_file.write_text(key)
    key_file.chmod(0o644)  # readable by others: planted, or copied without its mode
    with pytest.raises(SettingsError, match="readable by it only"):
        Settings.from_env({}).with_instance(str(folder))
    key_file.chmod(0o600)
    key_file.write_bytes(b"\xff" * 43)
    with pytest.raises(SettingsError, match="cannot read or make the key"):
        Settings.from_env({}).with_instance(str(folder))
    key_file.unlink()
    key_file.mkdir()
    with pytest.raises(SettingsError, match="cannot read or make the key"):
        Settings.from_env({}).with_instance(str(folder))


@pytest.mark.soak
@pytest.mark.parametrize("store_env", ["sqlite"], indirect=True)
def test_200_users_beside_reconcile_runs_and_readers_log_no_io_error(deployment, telegram):
    """The soak of the issue: 200 users' journeys on two gunicorn workers and the RQ worker,
    with `flask --app wsgi reconcile` and a sqlite3 reader run again and again beside them;
    no `disk I/O error`, no traceback, and everything acknowledged is there."""
    journeys = Journeys(deployment, telegram)
    deployment.start()
    users = [8_100_000 + n for n in range(200)]
    done = threading.Event()

    def operator() -> int:
        runs = 0
        while not done.is_set() and runs < 20:
            deployment.command("reconcile")
            deployment.operator_reads()
            runs += 1
        return runs

    with ThreadPoolExecutor(12) as pool:
        beside = pool.submit(operator)
        work = [pool.submit(journeys.buy, u) for u in users[:40]]
        work += [pool.submit(journeys.train, u, "Soak") for u in users[40:100]]
        work += [pool.submit(journeys.sign_up, u) for u in users[100:]]
        for future in work:
            future.result(timeout=120)
        ready = eventually(lambda: ready_models(deployment), timeout=60)
        for future in [pool.submit(journeys.generate, u, m) for u, m in ready.items()]:
            future.result(timeout=120)
        done.set()
        assert beside.result(timeout=120) >= 2
    assert deployment.refused == [] and len(journeys.acked.users) == 200
    assert deployment.stray_wals() == [] and deployment.unlocked() == []
    check_store(deployment, journeys.acked)
    logs = deployment.logs()
    assert "disk I/O error" not in logs and "Traceback" not in logs, logs[-5000:]
    assert "cannot rollback" not in logs, logs[-5000:]


def test_a_payment_and_its_refund_are_on_disk_before_the_store_returns(tmp_path):
    """What Telegram already took or gave back survives a power cut too: a payment's and a
    refund's commits run with synchronous=FULL (the write-ahead log flushed before COMMIT
    returns); every other write keeps NORMAL (safe from any crash of ours, faster)."""
    from webapp.store.sqlite import SQLiteStore

    store = SQLiteStore(str(tmp_path / "bot.sqlite3"))
    store.ensure_user(
        7, username=None, first_name="A", last_name=None, language_code="en",
        free_credits=3, signup_key="durable-7",
    )  # fmt: skip
    order = store.create_order(7, 10, 100)
    said: list[str] = []
    store._db().set_trace_callback(said.append)  # every statement this thread's connection runs

    def synchronous_at_commit(write) -> str:
        said.clear()
        write()
        modes = [s for s in said if s.startswith("PRAGMA synchronous") or s == "COMMIT"]
        return " ".join(modes)

    full = "PRAGMA synchronous=FULL COMMIT PRAGMA synchronous=NORMAL"
    assert synchronous_at_commit(lambda: store.record_payment(7, "ch-1", order.id, 10, 100)) == full
    assert synchronous_at_commit(lambda: store.refund_payment("ch-1")) == full
    assert synchronous_at_commit(lambda: store.grant(7, 1, "grant", "g-1")) == "COMMIT"
    assert store._one("PRAGMA synchronous")[0] == 1  # NORMAL again
    store.close()


KILLED_AT_LINK = """
import os, signal, sys
from webapp.settings import Settings
real_link = os.link

def link(src, dst, **kwargs):
    if sys.argv[2] == "after":
        real_link(src, dst, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)

os.link = link
Settings.from_env({}).with_instance(sys.argv[1])
"""


@pytest.mark.parametrize("moment", ["before", "after"])
def test_a_key_maker_killed_at_the_link_leaves_no_half_key(tmp_path, moment, monkeypatch):
    """kill -9 of a process just before or just after it links the key into place (the key
    written aside and flushed): no key, or the whole key; the next start makes or reads it, and
    what was left aside goes once stale. And the flushes come first: the key's bytes, then the
    link, then the folder (a power cut cannot leave a link to an empty file)."""
    folder = tmp_path / "instance"
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_AT_LINK, str(folder), moment], cwd=ROOT, timeout=60
    )
    assert killed.returncode == -signal.SIGKILL
    (aside,) = folder.glob(".secret_key.*")
    key_file = folder / "secret_key"
    assert key_file.exists() == (moment == "after")
    if moment == "after":
        assert key_file.read_text() == aside.read_text() and len(key_file.read_text()) == 43
    os.utime(aside, (time.time() - 3600, time.time() - 3600))
    key = Settings.from_env({}).with_instance(str(folder)).secret_key
    assert key == key_file.read_text() and not aside.exists()

    order = []
    real_fsync, real_link = os.fsync, os.link
    monkeypatch.setattr(os, "fsync", lambda fd: (order.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "link", lambda a, b: (order.append("link"), real_link(a, b))[1])
    Settings.from_env({}).with_instance(str(tmp_path / "another"))
    assert order == ["fsync", "link", "fsync"]


def test_a_flushed_write_that_cannot_begin_leaves_the_connection_as_it_was(tmp_path):
    """A payment that finds the database locked past the busy timeout fails, and the next
    writes of that connection are not flushed one by one because of it."""
    from webapp.records import StoreError
    from webapp.store.sqlite import SQLiteStore

    path = str(tmp_path / "bot.sqlite3")
    store = SQLiteStore(path)
    store._db().execute("PRAGMA busy_timeout=50")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    with pytest.raises(StoreError, match="unavailable"):
        with store._write(flushed=True):
            pass
    holder.execute("ROLLBACK")
    holder.close()
    assert store._one("PRAGMA synchronous")[0] == 1  # NORMAL
    store.close()
