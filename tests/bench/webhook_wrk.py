"""Benchmark: the webhook as deployed. wrk drives fresh /credits updates (a new update_id each,
from 1,000 users) at one gunicorn gthread worker of the app and of the bare pyTelegramBotAPI
echo webhook in turn; the Bot API is answered by nginx (a fixed success). The CPU of each
gunicorn worker (from /proc) per update, and the updates per second, are compared. The bars:
the app at most 1.15x the echo bot's CPU per update, and at least 90 % of its throughput.

    .venv/bin/python -m tests.bench.webhook_wrk [seconds-per-run] [runs] 2>/dev/null

Needs wrk and nginx (`apt-get install wrk nginx`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from tests.bench.webhook_cpu import SECRET, TOKEN
from tests.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SENT = '{"ok":true,"result":{"message_id":1,"date":0,"chat":{"id":1,"type":"private"}}}'

# Each wrk thread numbers its updates from its own base: every update_id is new.
SCRIPT = """
local threads = 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
function init(args) n = tid * 100000000 end
function request()
  n = n + 1
  local user = 1000 + n % 1000
  local body = string.format('{"update_id":%d,"message":{"message_id":%d,"date":0,'
    .. '"chat":{"id":%d,"type":"private"},"from":{"id":%d,"is_bot":false,'
    .. '"first_name":"A","language_code":"en"},"text":"/credits",'
    .. '"entities":[{"type":"bot_command","offset":0,"length":8}]}}', n, n, user, user)
  return wrk.format("POST", "/api/bot/webhook", {
    ["Content-Type"] = "application/json",
    ["X-Telegram-Bot-Api-Secret-Token"] = "SECRET"}, body)
end
"""


def nginx(tmp: Path) -> tuple[subprocess.Popen, str]:
    """nginx answering every Bot API call with a success."""
    port = free_port()
    (tmp / "logs").mkdir()
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"""daemon off; worker_processes 1; pid {tmp}/nginx.pid; error_log {tmp}/error.log;
events {{ worker_connections 1024; }}
http {{ access_log off; server {{ listen 127.0.0.1:{port};
  location / {{ default_type application/json; return 200 '{SENT}'; }} }} }}
"""
    )
    proc = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(tmp)], stderr=subprocess.DEVNULL)
    return proc, f"http://127.0.0.1:{port}"


def gunicorn(target: str, env: dict, log: Path, conf: list[str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                *conf,
                "--workers",
                "1",
                "--bind",
                f"127.0.0.1:{port}",
                target,
            ],  # fmt: skip
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(url + "/", timeout=1)
            return proc, url
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"{target} did not start: {log.read_text()[-2000:]}")


def worker_cpu(master: subprocess.Popen) -> float:
    """CPU seconds (user + system) of the master's worker processes."""
    total = 0.0
    for child in Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split():
        fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def drive(url: str, script: Path, seconds: int) -> int:
    """Run wrk against the webhook; the requests made (any non-2xx fails the run)."""
    out = subprocess.run(
        ["wrk", "-t2", "-c8", f"-d{seconds}s", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"errors under load:\n{out}")
    return int(re.search(r"(\d+) requests in", out).group(1))


def main() -> None:
    numbers = [int(a) for a in sys.argv[1:] if a.isdigit()]
    seconds, runs = (numbers + [10, 3][len(numbers) :])[:2]
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        script = tmp / "updates.lua"
        script.write_text(SCRIPT.replace('"SECRET"', f'"{SECRET}"'))
        bot_api, api_url = nginx(tmp)
        app_env = {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "TELEGRAM_API_URL": api_url,
            "ASTRIA_SANDBOX": "1",
            "INSTANCE_PATH": str(tmp / "instance"),
            "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3",
            "PUBLIC_URL": "http://127.0.0.1:1",
            "TELEGRAM_CHAT_RATE": "1000000",
            "TELEGRAM_GLOBAL_RATE": "1000000",
            "FLOOD_MESSAGES": "1000000",
        }
        procs = [bot_api]
        try:
            app, app_url = gunicorn(
                "wsgi:app", app_env, tmp / "app.log", ["-c", "python:webapp.gunicorn_conf"]
            )
            procs.append(app)
            echo, echo_url = gunicorn(
                "tests.bench.echo_wsgi:app",
                {"BENCH_BOT_API": api_url},
                tmp / "echo.log",
                ["--worker-class", "gthread", "--threads", "8"],
            )
            procs.append(echo)
            for url in (app_url, echo_url):  # warm-up: users registered, connections open
                drive(url, script, 2)
            totals = {"app": [0.0, 0], "echo": [0.0, 0]}
            for _ in range(runs):
                for name, proc, url in (("echo", echo, echo_url), ("app", app, app_url)):
                    before = worker_cpu(proc)
                    made = drive(url, script, seconds)
                    totals[name][0] += worker_cpu(proc) - before
                    totals[name][1] += made
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=30)
    per = {k: cpu / n * 1000 for k, (cpu, n) in totals.items()}
    rate = {k: n / (seconds * runs) for k, (_, n) in totals.items()}
    print(f"wrk: 2 threads, 8 connections, {runs} x {seconds} s each; fresh /credits updates")
    for name in ("echo", "app"):
        print(f"{name:>4}: {per[name]:.3f} ms CPU per update, {rate[name]:.0f} updates/s")
    print(f"CPU per update app/echo: {per['app'] / per['echo']:.2f} (bar: 1.15)")
    print(f"throughput app/echo: {rate['app'] / rate['echo']:.2f} (bar: 0.90)")


if __name__ == "__main__":
    main()
