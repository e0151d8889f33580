"""The app as deployed: `gunicorn wsgi:app` with two workers, driven over HTTP."""

from __future__ import annotations

import os
import socket
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests import factories as f, processes
from tests.journey import run_journey
from tests.live import TOKEN, WEBHOOK_SECRET, base_env
from tests.processes import free_port
from tests.support import init_data

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def gunicorn(tmp_path, telegram):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, **base_env(tmp_path, telegram), "PUBLIC_URL": url}
    log = tmp_path / "gunicorn.log"
    process = processes.spawn(processes.gunicorn(port), env, log)  # as deployed
    try:
        processes.wait_ready(url, 30, why=log.read_text)
        yield url, tmp_path
    finally:  # (also when it never got ready: no server is left behind on its port)
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.gunicorn
def test_the_journey_under_gunicorn(gunicorn, telegram):
    url, tmp_path = gunicorn
    session = requests.Session()

    def post(update):
        response = session.post(
            f"{url}/api/bot/webhook",
            json=update,
            timeout=30,
            headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
        )
        assert response.status_code == 200, response.text
        telegram.webhook_answered(response)
        return response

    run_journey(
        post,
        telegram,
        user_id=31337,
        sandbox_db=str(tmp_path / "instance" / "astria-sandbox.sqlite3"),
        token=TOKEN,
    )
    unauthorised = session.post(f"{url}/api/bot/webhook", json={"update_id": 1}, timeout=10)
    assert unauthorised.status_code == 401
    log = (tmp_path / "gunicorn.log").read_text()
    assert "Booting worker" in log and "app ready" in log
    assert TOKEN not in log and WEBHOOK_SECRET not in log
    assert "Traceback" not in log
    # Astria's callbacks reached the app (access log lines), without their tokens
    callbacks = [line for line in log.splitlines() if "/api/astria/callback/" in line]
    assert callbacks and not [line for line in callbacks if "token" in line], callbacks[:3]


def raw_request(url: str, head: str, body: bytes) -> tuple[int, bytes]:
    """Send bytes as they are (a client that breaks HTTP on purpose); the status it gets."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = conn.recv(65536)
            if not chunk:
                break
            answer += chunk
    status = answer.split(b" ", 2)[1] if answer else b"0"
    return int(status), answer


@pytest.mark.gunicorn
def test_a_broken_chunked_body_is_a_400_without_an_alert(gunicorn):
    url, tmp_path = gunicorn
    broken = [
        b"zz\r\n{}\r\n0\r\n\r\n",  # not a chunk size
        b"2\r\n{}XX0\r\n\r\n",  # a chunk without its terminator
        b"-5\r\n{}\r\n0\r\n\r\n",  # a negative chunk size
    ]
    for body in broken:
        head = (
            "POST /api/bot/webhook HTTP/1.1\nHost: bot\nContent-Type: application/json\n"
            f"X-Telegram-Bot-Api-Secret-Token: {WEBHOOK_SECRET}\nTransfer-Encoding: chunked\n"
            "Connection: close\n"
        )
        status, answer = raw_request(url, head, body)
        assert status == 400, answer
        auth = f"tma {init_data(6001)}"
        head = (
            "POST /api/bot/train-model HTTP/1.1\nHost: bot\nConnection: close\n"
            f"Authorization: {auth}\nTransfer-Encoding: chunked\n"
            "Content-Type: multipart/form-data; boundary=x\n"
        )
        status, answer = raw_request(url, head, body)
        assert status == 400, answer
    log = (tmp_path / "gunicorn.log").read_text()
    assert "critical" not in log and "Traceback" not in log and " 500 " not in log, log[-3000:]


@pytest.mark.gunicorn
def test_a_payment_delivered_twenty_times_at_once_to_two_workers_grants_once(gunicorn, telegram):
    url, tmp_path = gunicorn
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}

    def post(update):
        response = requests.post(f"{url}/api/bot/webhook", json=update, timeout=30, headers=headers)
        assert response.status_code == 200, response.text
        telegram.webhook_answered(response)

    post(f.message(4400, "/buy"))
    post(f.callback(4400, "buy:10"))
    invoice = telegram.wait_for(lambda calls: [c for c in calls if c.method == "sendInvoice"])
    payload = invoice[-1].params["payload"]
    post(f.pre_checkout(4400, payload, 100))
    charge_id = telegram.charge(4400, 100)
    updates = [f.successful_payment(4400, payload, 100, charge_id) for _ in range(20)]
    with ThreadPoolExecutor(20) as pool:
        list(pool.map(post, updates))
    db = sqlite3.connect(tmp_path / "bot.sqlite3")
    purchases = db.execute(
        "SELECT COUNT(*) FROM credit_ledger WHERE reason = 'purchase' AND ref = ?", (charge_id,)
    ).fetchone()[0]
    (credits,) = db.execute(
        "SELECT credits FROM telegram_users WHERE telegram_id = 4400"
    ).fetchone()
    db.close()
    assert (purchases, credits) == (1, 13)
    telegram.wait_text(4400, "10 credits added")
    assert sum("credits added" in text for text in telegram.texts(4400)) == 1
    log = (tmp_path / "gunicorn.log").read_text()
    assert log.count("Booting worker") == 2 and "Traceback" not in log
