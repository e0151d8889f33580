"""The Astria sandbox: a stand-in for Astria's REST API, served by the app itself without a key.

It accepts the same requests as Astria (multipart or JSON, bearer key), answers with the same
objects, "trains" after a short delay, renders placeholder images with Pillow and POSTs the same
wrapped callbacks (`{"tune": …}`, `{"prompt": …}`) once, never retried — as Astria does.
Its state lives in a small SQLite file, so every gunicorn worker sees the same tunes.

Test knobs (sandbox only): `POST /_faults` queues failures — an HTTP status for the next matching
requests, a dropped callback, or a tune/prompt that finishes as failed.
"""

from __future__ import annotations

import io
import json
import logging
import re
import sqlite3
import textwrap
import threading
import time
import zlib
from datetime import UTC, datetime, timedelta

import requests
from flask import Blueprint, Response, current_app, jsonify, request
from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from webapp.settings import SANDBOX_PREFIX, Settings
from webapp.store.sqlite import connect

log = logging.getLogger("astria.sandbox")

SCHEMA = """
CREATE TABLE IF NOT EXISTS tunes (
  id INTEGER PRIMARY KEY, title TEXT UNIQUE NOT NULL, name TEXT NOT NULL, model_type TEXT,
  base_tune_id INTEGER, branch TEXT, token TEXT, callback TEXT, images INTEGER NOT NULL,
  created_at REAL NOT NULL, ready_at REAL NOT NULL, error TEXT, deleted INTEGER DEFAULT 0,
  sizes TEXT
);
CREATE TABLE IF NOT EXISTS prompts (
  id INTEGER PRIMARY KEY, tune_id INTEGER NOT NULL, text TEXT NOT NULL, num_images INTEGER NOT NULL,
  callback TEXT, created_at REAL NOT NULL, ready_at REAL NOT NULL, error TEXT
);
CREATE TABLE IF NOT EXISTS faults (
  id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, method TEXT, path TEXT,
  status INTEGER, body TEXT, remaining INTEGER NOT NULL
);
"""
GALLERY_TUNES = {1504944: "flux1", 690204: "sd15"}  # base models that exist without training
LORA_TAG = re.compile(r"<(lora|faceid):(\d+):[\d.]+>")


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SandboxState:
    """The sandbox's tunes, prompts and queued faults in one SQLite file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        with self.db() as db:
            db.executescript(SCHEMA)
            columns = {row[1] for row in db.execute("PRAGMA table_info(tunes)")}
            if "sizes" not in columns:  # a sandbox file made by an older version
                db.execute("ALTER TABLE tunes ADD COLUMN sizes TEXT")

    def db(self) -> sqlite3.Connection:
        """This thread's connection; used as a context manager it is one transaction."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = connect(self.path)
            db.isolation_level = ""  # `with db:` is one transaction
            db.row_factory = sqlite3.Row
            self._local.db = db
        return db

    def take_fault(self, kind: str, method: str = "", path: str = "") -> sqlite3.Row | None:
        """Use up one queued fault of this kind that matches the request, if any."""
        db = self.db()
        db.execute("BEGIN IMMEDIATE")  # read-then-write: take the write lock first
        with db:
            for row in db.execute(
                "SELECT * FROM faults WHERE kind = ? AND remaining > 0 ORDER BY id", (kind,)
            ):
                if row["method"] and row["method"] != method:
                    continue
                if row["path"] and not re.fullmatch(row["path"], path):
                    continue
                db.execute("UPDATE faults SET remaining = remaining - 1 WHERE id = ?", (row["id"],))
                return row
        return None


class Sandbox:
    """The sandbox's behaviour; routes below are thin wrappers around it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.base = settings.public_url + SANDBOX_PREFIX
        self.state = SandboxState(f"{settings.instance_path}/astria-sandbox.sqlite3")
        self.http = requests.Session()

    def train_seconds(self, branch: str | None) -> float:
        """How long a tune "trains": the fast branch is near-instant, as on Astria."""
        return (
            min(1.0, self.settings.sandbox_train_seconds)
            if branch == "fast"
            else (self.settings.sandbox_train_seconds)
        )

    # objects ----------------------------------------------------------------------------------

    def tune_json(self, row: sqlite3.Row) -> dict:
        """A tune object shaped like Astria's."""
        trained = time.time() >= row["ready_at"] and not row["error"]
        body = {
            "id": row["id"],
            "title": row["title"],
            "name": row["name"],
            "token": row["token"],
            "base_tune_id": row["base_tune_id"],
            "model_type": row["model_type"],
            "branch": row["branch"] or "flux1",
            "callback": row["callback"],
            "eta": _iso(row["ready_at"]),
            "created_at": _iso(row["created_at"]),
            "updated_at": _iso(max(row["created_at"], min(time.time(), row["ready_at"]))),
            "started_training_at": _iso(row["created_at"]),
            "trained_at": _iso(row["ready_at"]) if trained else None,
            "expires_at": _iso(row["ready_at"] + 30 * 86400) if trained else None,
            "url": f"{self.base}/tunes/{row['id']}.json",
            "is_api": True,
            "orig_images": [f"{self.base}/orig/{row['id']}/{i}" for i in range(row["images"])],
        }
        if row["error"] and time.time() >= row["ready_at"]:
            body.update(status="failed", error=row["error"])
        return body

    def prompt_json(self, row: sqlite3.Row) -> dict:
        """A prompt object shaped like Astria's: `images` stays empty until it is done."""
        done = time.time() >= row["ready_at"]
        body = {
            "id": row["id"],
            "tune_id": row["tune_id"],
            "text": row["text"],
            "num_images": row["num_images"],
            "callback": row["callback"],
            "created_at": _iso(row["created_at"]),
            "updated_at": _iso(row["created_at"]),
            "started_training_at": _iso(row["created_at"]) if done else None,
            "trained_at": _iso(row["ready_at"]) if done and not row["error"] else None,
            "negative_prompt": "",
            "steps": None,
            "seed": None,
            "cfg_scale": None,
            "url": f"{self.base}/tunes/{row['tune_id']}/prompts/{row['id']}.json",
            "images": [],
        }
        if done and row["error"]:
            body.update(status="failed", error=row["error"])
        elif done:
            body["images"] = [
                f"{self.base}/images/{row['id']}/{n}.jpg" for n in range(row["num_images"])
            ]
        return body

    def get_tune(self, tune_id: int) -> sqlite3.Row | None:
        """A tune row, or None."""
        return (
            self.state.db()
            .execute("SELECT * FROM tunes WHERE id = ? AND deleted = 0", (tune_id,))
            .fetchone()
        )

    # creation ---------------------------------------------------------------------------------

    def create_tune(self, fields: dict, images: list[bytes]) -> tuple[dict, int]:
        """Validate and store a tune, schedule its callback; (body, status)."""
        title, name = fields.get("title"), fields.get("name")
        if not title or not name:
            return {"error": "title and name are required"}, 422
        existing = (
            self.state.db().execute("SELECT * FROM tunes WHERE title = ?", (title,)).fetchone()
        )
        if existing:  # Astria's idempotency on title
            return self.tune_json(existing), 200
        if not images and not fields.get("image_urls"):
            return {"error": "images or image_urls are required"}, 422
        sizes = []
        for n, content in enumerate(images):
            try:
                with Image.open(io.BytesIO(content)) as img:
                    sizes.append(img.size)
                    img.verify()
            except (UnidentifiedImageError, OSError, SyntaxError):
                return {"error": f"image {n + 1} is not a valid image"}, 422
        count = len(images) or len(fields.get("image_urls") or [])
        failure = self.state.take_fault("fail", "tune")
        now = time.time()
        ready = now + self.train_seconds(fields.get("branch"))
        with self.state.db() as db:
            tune_id = db.execute(
                "INSERT INTO tunes (id, title, name, model_type, base_tune_id, branch, token, "
                "callback, images, created_at, ready_at, error, sizes) VALUES "
                "((SELECT COALESCE(MAX(id), 2000000) + 1 FROM tunes), ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                "?, ?, ?) RETURNING id",
                (
                    title,
                    name,
                    fields.get("model_type"),
                    _as_int(fields.get("base_tune_id")),
                    fields.get("branch"),
                    fields.get("token") or "ohwx",
                    fields.get("callback"),
                    count,
                    now,
                    ready,
                    (failure["body"] or "training failed") if failure else None,
                    json.dumps(sizes),
                ),
            ).fetchone()[0]
        row = self.get_tune(tune_id)
        if row["callback"]:
            self._later(ready - now, "tune", tune_id)
        return self.tune_json(row), 201

    def create_prompt(self, tune_id: int, fields: dict) -> tuple[dict, int]:
        """Validate and store a prompt on a tune, schedule its callback; (body, status)."""
        tune = self.get_tune(tune_id)
        if tune is None and tune_id not in GALLERY_TUNES:
            return {"error": "Tune not found"}, 404
        if tune is not None and tune["model_type"] in ("lora", "faceid"):
            return {
                "error": f"model_type={tune['model_type']} is not supported. "
                "Use a checkpoint instead"
            }, 422
        text = (fields.get("text") or "").strip()
        if not text:
            return {"error": "text is required"}, 422
        num_images = _as_int(fields.get("num_images")) or 1
        if not 1 <= num_images <= 8:
            return {"error": "num_images must be between 1 and 8"}, 422
        waits_for = time.time()
        for match in LORA_TAG.finditer(text):
            referenced = self.get_tune(int(match.group(2)))
            if referenced is None:
                return {"error": f"{match.group(1)} {match.group(2)} not found"}, 422
            waits_for = max(waits_for, referenced["ready_at"])
        if tune is not None:
            waits_for = max(waits_for, tune["ready_at"])
        failure = self.state.take_fault("fail", "prompt")
        now = time.time()
        ready = waits_for + self.settings.sandbox_prompt_seconds
        with self.state.db() as db:
            prompt_id = db.execute(
                "INSERT INTO prompts (id, tune_id, text, num_images, callback, created_at, "
                "ready_at, error) VALUES ((SELECT COALESCE(MAX(id), 3000000) + 1 FROM prompts), "
                "?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    tune_id,
                    text,
                    num_images,
                    fields.get("callback"),
                    now,
                    ready,
                    (failure["body"] or "generation failed") if failure else None,
                ),
            ).fetchone()[0]
        row = self.get_prompt(prompt_id)
        if row["callback"]:
            self._later(ready - now, "prompt", prompt_id)
        return self.prompt_json(row), 201

    def get_prompt(self, prompt_id: int) -> sqlite3.Row | None:
        """A prompt row, or None."""
        return (
            self.state.db().execute("SELECT * FROM prompts WHERE id = ?", (prompt_id,)).fetchone()
        )

    # callbacks --------------------------------------------------------------------------------

    def _later(self, delay: float, kind: str, object_id: int) -> None:
        timer = threading.Timer(max(delay, 0.0) + 0.05, self.fire_callback, (kind, object_id))
        timer.daemon = True
        timer.start()

    def fire_callback(self, kind: str, object_id: int) -> None:
        """POST the wrapped object to its callback URL once; a failure is not retried."""
        row = self.get_tune(object_id) if kind == "tune" else self.get_prompt(object_id)
        if row is None or not row["callback"]:
            return
        if self.state.take_fault("drop_callback", kind):
            log.info("sandbox dropped the %s %s callback, as asked", kind, object_id)
            return
        body = {kind: self.tune_json(row) if kind == "tune" else self.prompt_json(row)}
        try:
            response = self.http.post(row["callback"], json=body, timeout=10)
            log.info("sandbox callback %s %s -> %s", kind, object_id, response.status_code)
        except requests.RequestException as exc:
            log.info(
                "sandbox callback %s %s failed (%s); Astria does not retry",
                kind,
                object_id,
                type(exc).__name__,
            )


def _as_int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _fields(root: str) -> tuple[dict, list[bytes]]:
    """Read `root[...]` fields from JSON or multipart/form, plus uploaded images."""
    if request.is_json:
        body = request.get_json(silent=True) or {}
        return (body.get(root) or {}) if isinstance(body, dict) else {}, []
    fields: dict = {}
    prefix = f"{root}["
    for key in request.form:
        if key.startswith(prefix):
            name = key[len(prefix) :].split("]")[0]
            values = request.form.getlist(key)
            fields[name] = values if key.endswith("[]") else values[-1]
    images = [f.read() for f in request.files.getlist(f"{root}[images][]")]
    return fields, images


def render_placeholder(text: str, seed: int, size: int = 768) -> bytes:
    """A JPEG with a soft two-colour gradient and the prompt written on it."""
    hue = zlib.crc32(f"{seed}:{text}".encode()) % 360
    top = Image.new("HSV", (1, 1), (hue * 255 // 360, 120, 230)).convert("RGB").getpixel((0, 0))
    bottom = (
        Image.new("HSV", (1, 1), ((hue + 60) % 360 * 255 // 360, 200, 120))
        .convert("RGB")
        .getpixel((0, 0))
    )
    gradient = Image.linear_gradient("L").resize((size, size))
    image = Image.composite(
        Image.new("RGB", (size, size), bottom), Image.new("RGB", (size, size), top), gradient
    )
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=size // 20)
    small = ImageFont.load_default(size=size // 32)
    lines = textwrap.wrap(LORA_TAG.sub("", text).strip(), width=28)[:6]
    y = size // 3
    for line in lines:
        draw.text((size // 12, y), line, fill="white", font=font)
        y += size // 16
    draw.text(
        (size // 12, size - size // 10), f"Astria sandbox · #{seed + 1}", fill="white", font=small
    )
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


bp = Blueprint("astria_sandbox", __name__, url_prefix=SANDBOX_PREFIX)


def _sandbox() -> Sandbox:
    return current_app.extensions["astria_sandbox"]


@bp.before_request
def _authorise():
    """Astria wants a bearer key; so does its stand-in (images are public, as on S3)."""
    if request.endpoint == "astria_sandbox.image":
        return None
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("Bearer ") or not auth[7:].strip():
        return jsonify(error="Unauthorized"), 401
    fault = _sandbox().state.take_fault("http", request.method, request.path[len(SANDBOX_PREFIX) :])
    if fault:
        body = json.loads(fault["body"]) if fault["body"] else {"error": "sandbox fault"}
        return jsonify(body), fault["status"]
    return None


@bp.post("/tunes")
def create_tune():
    """POST /tunes."""
    body, status = _sandbox().create_tune(*_fields("tune"))
    return jsonify(body), status


@bp.get("/tunes/<int:tune_id>")
@bp.get("/tunes/<int:tune_id>.json")
def get_tune(tune_id: int):
    """GET /tunes/:id."""
    row = _sandbox().get_tune(tune_id)
    if row is None:
        return jsonify(error="Not found"), 404
    return jsonify(_sandbox().tune_json(row))


@bp.delete("/tunes/<int:tune_id>")
def delete_tune(tune_id: int):
    """DELETE /tunes/:id."""
    with _sandbox().state.db() as db:
        db.execute("UPDATE tunes SET deleted = 1 WHERE id = ?", (tune_id,))
    return jsonify(message="Tune successfully deleted")


@bp.post("/tunes/<int:tune_id>/prompts")
def create_prompt(tune_id: int):
    """POST /tunes/:id/prompts."""
    fields, _ = _fields("prompt")
    body, status = _sandbox().create_prompt(tune_id, fields)
    return jsonify(body), status


@bp.get("/tunes/<int:tune_id>/prompts/<int:prompt_id>")
@bp.get("/prompts/<int:prompt_id>")
def get_prompt(prompt_id: int, tune_id: int | None = None):
    """GET /tunes/:tune_id/prompts/:id."""
    row = _sandbox().get_prompt(prompt_id)
    if row is None or (tune_id is not None and row["tune_id"] != tune_id):
        return jsonify(error="Not found"), 404
    return jsonify(_sandbox().prompt_json(row))


@bp.get("/images/<int:prompt_id>/<int:n>.jpg")
def image(prompt_id: int, n: int):
    """A generated image: rendered on request, the same bytes every time."""
    row = _sandbox().get_prompt(prompt_id)
    if row is None or not 0 <= n < row["num_images"] or time.time() < row["ready_at"]:
        return jsonify(error="Not found"), 404
    response = Response(render_placeholder(row["text"], n), mimetype="image/jpeg")
    response.cache_control.public = True
    response.cache_control.max_age = int(timedelta(days=30).total_seconds())
    return response


@bp.post("/_faults")
def queue_fault():
    """Queue a failure: {"kind": "http", "method", "path" (a regex), "status", "body", "times"}
    or {"kind": "fail"|"drop_callback", "target": "tune"|"prompt", "body": error text, "times"}."""
    spec = request.get_json(silent=True) or {}
    kind = spec.get("kind")
    if kind not in {"http", "fail", "drop_callback"}:
        return jsonify(error="kind must be http, fail or drop_callback"), 422
    body = spec.get("body")
    with _sandbox().state.db() as db:
        db.execute(
            "INSERT INTO faults (kind, method, path, status, body, remaining) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                kind,
                spec.get("target") or spec.get("method"),
                spec.get("path"),
                spec.get("status"),
                json.dumps(body) if isinstance(body, dict) else body,
                int(spec.get("times", 1)),
            ),
        )
    return jsonify(ok=True), 201


def init_app(app, settings: Settings) -> None:
    """Serve the sandbox when the app has no Astria key."""
    if settings.sandbox:
        app.extensions["astria_sandbox"] = Sandbox(settings)
        app.register_blueprint(bp)
