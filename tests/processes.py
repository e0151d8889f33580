"""The deployment's processes in tests, one copy: a free port, the deployed gunicorn command
(docs/going-live.md), the RQ worker, waiting until an app answers /readyz, and kill -9."""

from __future__ import annotations

import ctypes
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A loopback port nobody listens on right now, for a server started later (or again after
    a restart). It is below the kernel's ephemeral range: a port the kernel hands out may be
    taken, before the server binds it, as the local end of an outgoing connection the suite
    makes meanwhile (to Redis, to a stand-in), which once failed CI: "Address already in use"."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    while True:
        port = random.randrange(max(1024, low - 12000), low)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def die_with_parent() -> None:
    """In a child, before exec: SIGKILL it when the test process dies, so a test killed mid-way
    (a timeout, Ctrl+C) leaves no server behind holding a port."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def gunicorn(port: int, workers: int = 2) -> list[str]:
    """The deployed command (python -m …): `gunicorn -c python:webapp.gunicorn_conf wsgi:app`."""
    return ["gunicorn", "-c", "python:webapp.gunicorn_conf", "--workers", str(workers),
            "--bind", f"127.0.0.1:{port}", "wsgi:app"]  # fmt: skip


WORKER = ["flask", "--app", "wsgi", "worker"]


def spawn(args: list[str], env: dict, log: Path, group: bool = False) -> subprocess.Popen:
    """`python -m <args>` in the checkout with `env`, its output in `log`; `group`: a process
    group of its own (killpg reaches gunicorn's workers too)."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=group,
            preexec_fn=die_with_parent,
        )


def ready(url: str, timeout: float = 2.0) -> bool:
    """The app at `url` answers /readyz (its store answers)."""
    try:
        return requests.get(f"{url}/readyz", timeout=timeout).status_code == 200
    except requests.RequestException:  # not listening yet, or still starting
        return False


def wait_ready(url: str, timeout: float = 40.0, why: Callable[[], str] = str) -> None:
    """Until the app at `url` is ready; past `timeout`, fail with `why()` (its logs)."""
    deadline = time.monotonic() + timeout
    while not ready(url):
        assert time.monotonic() < deadline, f"{url} did not start:\n{why()}"
        time.sleep(0.05)


def kill(proc: subprocess.Popen) -> None:
    """kill -9 of the process and its group (gunicorn's workers): no clean-up runs."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=20)
