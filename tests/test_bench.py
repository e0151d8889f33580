"""The benchmark scripts keep working (their numbers are read by people, not asserted here: the
machines are noisy). The webhook benchmark once stopped starting when a setting became required,
and nobody noticed. Outside `make test` (they measure, and measuring wants a quiet machine):
`make bench` runs them, and CI does."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import supabase_stack

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.bench


def test_the_webhook_cpu_benchmark_runs_and_prints_its_ratio():
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench.webhook_cpu", "5", "1", "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "ratio app/echo:" in done.stdout and "(bar: 1.15)" in done.stdout
    assert "reply as its own request:" in done.stdout


def test_the_memory_benchmark_runs_and_prints_its_numbers():
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench.memory", "800"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "RSS at 800:" in done.stdout and "(bar: no growth, within 2 MB" in done.stdout


def test_the_deployed_webhook_benchmark_runs_and_prints_its_ratios():
    if shutil.which("wrk") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("wrk is not installed — CI must run it (make tools installs it)")
        pytest.skip("wrk is not installed (make tools, as root)")
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench.webhook_wrk", "1", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "CPU per update app/echo:" in done.stdout and "(bar: 1.15)" in done.stdout
    assert "throughput app/echo:" in done.stdout and "(bar: 0.90)" in done.stdout


def test_the_store_round_trips_benchmark_runs_and_prints_its_table():
    missing = supabase_stack.missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{missing} — CI must run it (make tools installs it)")
        pytest.skip(f"Supabase stand-in: {missing}")
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench.store_trips"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "/start                 2: begin_update, finish_update\n" in done.stdout, done.stdout
    assert "/help                  1: begin_update\n" in done.stdout, done.stdout
    assert "off the request path:" in done.stdout
