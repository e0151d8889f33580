"""The sandbox's tunes and prompts, shaped like Astria's JSON objects."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def tune_json(row: sqlite3.Row, base: str) -> dict:
    """A tune object shaped like Astria's (without the callback URL: it holds a token)."""
    trained = time.time() >= row["ready_at"] and not row["error"]
    body = {
        "id": row["id"],
        "title": row["title"],
        "name": row["name"],
        "token": row["token"],
        "base_tune_id": row["base_tune_id"],
        "model_type": row["model_type"],
        "branch": row["branch"] or "flux1",
        "eta": _iso(row["ready_at"]),
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(max(row["created_at"], min(time.time(), row["ready_at"]))),
        "started_training_at": _iso(row["created_at"]),
        "trained_at": _iso(row["ready_at"]) if trained else None,
        "expires_at": _iso(row["ready_at"] + 30 * 86400) if trained else None,
        "url": f"{base}/tunes/{row['id']}.json",
        "is_api": True,
    }
    if row["error"] and time.time() >= row["ready_at"]:
        body.update(status="failed", error=row["error"])
    return body


def prompt_json(row: sqlite3.Row, base: str, sign: Callable[[int, int], str]) -> dict:
    """A prompt object shaped like Astria's: `images` stays empty until it is done."""
    done = time.time() >= row["ready_at"]
    body = {
        "id": row["id"],
        "tune_id": row["tune_id"],
        "text": row["text"],
        "num_images": row["num_images"],
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["created_at"]),
        "started_training_at": _iso(row["created_at"]) if done else None,
        "trained_at": _iso(row["ready_at"]) if done and not row["error"] else None,
        "negative_prompt": "",
        "steps": None,
        "seed": None,
        "cfg_scale": None,
        "url": f"{base}/tunes/{row['tune_id']}/prompts/{row['id']}.json",
        "images": [],
    }
    if done and row["error"]:
        body.update(status="failed", error=row["error"])
    elif done:
        body["images"] = [
            f"{base}/images/{row['id']}/{sign(row['id'], n)}/{n}.jpg"
            for n in range(row["num_images"])
        ]
    return body
