"""What the sandbox does: validate and store tunes and prompts, shape them like Astria's objects,
finish them after a while and call back once."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import re
import sqlite3
import threading
import time

import requests
from PIL import Image, ImageFilter, ImageStat, UnidentifiedImageError

from webapp.sandbox import shapes
from webapp.sandbox.render import LORA_TAG
from webapp.sandbox.state import SandboxState
from webapp.settings import SANDBOX_PREFIX, Settings

log = logging.getLogger("astria.sandbox")

CALLBACK = re.compile(r"(tune|prompt|shoot)/[0-9]{1,19}(\?token=[0-9A-Za-z_-]{1,128})?")
GALLERY_TUNES = {1504944: "flux1", 690204: "sd15"}  # base models that exist without training


def _as_int(value) -> int | None:
    try:
        number = int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
    return number if number is None or abs(number) < 2**63 else None


PROMPT_FIELDS = {"text", "num_images", "callback"}  # the rest are options, kept as sent
BLUR_BELOW = 40.0  # variance of the edge map of a ≤512 px thumbnail: sharp photos have 100+


def sharpness(image: Image.Image) -> float:
    """How sharp a picture is: the variance of the edge map of its grey, at most 512 px a side
    (sharp photos have 100+; the sandbox calls one below BLUR_BELOW blurry)."""
    grey = image.convert("L")
    grey.thumbnail((512, 512))
    edges = grey.filter(ImageFilter.FIND_EDGES)
    width, height = edges.size  # the frame's own edge is not the picture's
    return ImageStat.Stat(edges.crop((2, 2, width - 2, height - 2))).var[0]


class Sandbox:
    """The sandbox's behaviour; the routes are thin wrappers around it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.base = settings.public_url + SANDBOX_PREFIX
        self.callbacks = f"{settings.public_url}/api/astria/callback/"
        self.key = settings.sandbox_key
        self.state = SandboxState(f"{settings.instance_path}/astria-sandbox.sqlite3")
        self.http = requests.Session()
        self._timers: set[threading.Timer] = set()  # callbacks not yet sent (or being sent)

    def close(self) -> None:
        """Drop the callbacks not yet sent (an app shutting down, or a test ending)."""
        for timer in list(self._timers):
            timer.cancel()
        self._timers.clear()

    def pending(self) -> int:
        """How many callbacks are still to be sent, or are being sent now."""
        return len(self._timers)

    def authorised(self, header: str) -> bool:
        """Only the app's own Astria client knows the key."""
        scheme, _, key = header.partition(" ")
        return scheme == "Bearer" and hmac.compare_digest(key.encode(), self.key.encode())

    def image_signed(self, prompt_id: int, n: int, signature: str) -> bool:
        """True when `signature` is this image's (compared in constant time)."""
        expected = self.image_signature(prompt_id, n)
        return hmac.compare_digest(signature.encode(), expected.encode())

    def image_signature(self, prompt_id: int, n: int) -> str:
        """The image URLs are unguessable, like S3's: their prompt text is written on them."""
        message = f"image:{prompt_id}:{n}".encode()
        return hmac.new(self.key.encode(), message, hashlib.sha256).hexdigest()[:24]

    def train_seconds(self, branch: str | None) -> float:
        """How long a tune "trains": the fast branch is near-instant, as on Astria."""
        seconds = self.settings.sandbox_train_seconds
        return min(1.0, seconds) if branch == "fast" else seconds

    # objects ----------------------------------------------------------------------------------

    def tune_json(self, row: sqlite3.Row) -> dict:
        """A tune object shaped like Astria's (without the callback URL: it holds a token)."""
        return shapes.tune_json(row, self.base)

    def prompt_json(self, row: sqlite3.Row) -> dict:
        """A prompt object shaped like Astria's: `images` stays empty until it is done."""
        return shapes.prompt_json(row, self.base, self.image_signature)

    def get_tune(self, tune_id: int) -> sqlite3.Row | None:
        """A tune row, or None."""
        db = self.state.db()
        return db.execute("SELECT * FROM tunes WHERE id = ? AND deleted = 0", (tune_id,)).fetchone()

    def get_prompt(self, prompt_id: int) -> sqlite3.Row | None:
        """A prompt row, or None."""
        db = self.state.db()
        query = "SELECT * FROM prompts WHERE id = ? AND deleted = 0"
        return db.execute(query, (prompt_id,)).fetchone()

    def delete(self, table: str, object_id: int) -> bool:
        """Delete a tune or a prompt; False when there was none."""
        with self.state.db() as db:
            query = f"UPDATE {table} SET deleted = 1 WHERE id = ? AND deleted = 0"
            return db.execute(query, (object_id,)).rowcount == 1

    # creation ---------------------------------------------------------------------------------

    def callback_refused(self, url) -> dict | None:
        """Callbacks go only to this app's callback routes: PUBLIC_URL/api/astria/callback/, then
        exactly `<tune|prompt|shoot>/<id>` and a token (no `..` or `%2e` segment, no other path)."""
        if url in (None, ""):
            return None
        if not (
            isinstance(url, str)
            and url.startswith(self.callbacks)
            and CALLBACK.fullmatch(url[len(self.callbacks) :])
        ):
            return {"error": "callback must be an Astria callback URL of this app"}
        return None

    def create_tune(self, fields: dict, images: list[bytes]) -> tuple[dict, int]:
        """Validate and store a tune, schedule its callback; (body, status)."""
        title, name = fields.get("title"), fields.get("name")
        if not title or not name or not isinstance(title, str) or not isinstance(name, str):
            return {"error": "title and name are required"}, 422
        if refused := self.callback_refused(fields.get("callback")):
            return refused, 422
        existing = (
            self.state.db().execute("SELECT * FROM tunes WHERE title = ?", (title,)).fetchone()
        )
        if existing:  # Astria's idempotency on title
            return self.tune_json(existing), 200
        if not images:
            return {"error": "images are required"}, 422
        sizes = []
        for n, content in enumerate(images):
            try:
                with Image.open(io.BytesIO(content)) as img:
                    sizes.append(img.size)
                    img.verify()
            except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
                return {"error": f"image {n + 1} is not a valid image"}, 422
        failure = self.state.take_fault("fail", "tune")
        now = time.time()
        # FaceID has no training: trained_at is set on creation and no callback is needed
        faceid = fields.get("model_type") == "faceid"
        ready = now if faceid else now + self.train_seconds(fields.get("branch"))
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
                    len(images),
                    now,
                    ready,
                    (failure["body"] or "training failed") if failure else None,
                    json.dumps(sizes),
                ),
            ).fetchone()[0]
        row = self.get_tune(tune_id)
        if row["callback"] and not faceid:
            self._later(ready - now, "tune", tune_id)
        return self.tune_json(row), 201

    def inspect_image(self, name: str, content: bytes) -> tuple[dict, int]:
        """What /images/inspect says, by honest heuristics: the class asked about, and blurry
        when the picture has almost no edges (the variance of its edge map is low). It sees no
        people, glasses or hats, and no age or hair: those it leaves out."""
        if not name or not content:
            return {"error": "name and file are required"}, 422
        try:
            with Image.open(io.BytesIO(content)) as img:
                img.draft("L", (512, 512))  # a JPEG decodes its grey only, at the size needed
                blurry = sharpness(img) < BLUR_BELOW
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            return {"error": "file is not a valid image"}, 422
        flags = ("includes_multiple_people", "wearing_sunglasses", "wearing_hat", "funny_face")
        body = {"name": name, "blurry": blurry, **dict.fromkeys(flags, False)}
        return body, 200

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
        text = fields.get("text")
        text = text.strip() if isinstance(text, str) else ""
        if not text:
            return {"error": "text is required"}, 422
        if refused := self.callback_refused(fields.get("callback")):
            return refused, 422
        options = {k: v for k, v in fields.items() if k not in PROMPT_FIELDS}
        num_images = _as_int(fields.get("num_images")) or 1
        if not 1 <= num_images <= 8:
            return {"error": "num_images must be between 1 and 8"}, 422
        waits_for = time.time()
        for match in LORA_TAG.finditer(text):
            referenced = self.get_tune(_as_int(match.group(2)) or 0)
            if referenced is None:
                return {"error": f"{match.group(1)} {match.group(2)} not found"}, 422
            waits_for = max(waits_for, referenced["ready_at"])
        if tune is not None:
            waits_for = max(waits_for, tune["ready_at"])
        prompt_id = self.insert_prompt(
            tune_id, text, num_images, fields.get("callback"), waits_for, options
        )
        return self.prompt_json(self.get_prompt(prompt_id)), 201

    def insert_prompt(self, tune_id, text, num_images, callback, waits_for, options=None) -> int:
        """Store a prompt made once `waits_for` has passed (a fault may fail it) and schedule
        its callback, if it has one; its id."""
        failure = self.state.take_fault("fail", "prompt")
        now = time.time()
        ready = waits_for + self.settings.sandbox_prompt_seconds
        with self.state.db() as db:
            prompt_id = db.execute(
                "INSERT INTO prompts (id, tune_id, text, num_images, callback, created_at, "
                "ready_at, error, options) VALUES "
                "((SELECT COALESCE(MAX(id), 3000000) + 1 FROM prompts), ?, ?, ?, ?, ?, ?, ?, ?) "
                "RETURNING id",
                (
                    tune_id,
                    text,
                    num_images,
                    callback,
                    now,
                    ready,
                    (failure["body"] or "generation failed") if failure else None,
                    json.dumps(options or {}),
                ),
            ).fetchone()[0]
        if callback:
            self._later(ready - now, "prompt", prompt_id)
        return prompt_id

    # callbacks --------------------------------------------------------------------------------

    def _later(self, delay: float, kind: str, object_id: int) -> None:
        def fire() -> None:
            try:
                self.fire_callback(kind, object_id)
            finally:
                self._timers.discard(timer)  # answered: what it started is queued by now

        timer = threading.Timer(max(delay, 0.0) + 0.05, fire)
        timer.daemon = True
        self._timers.add(timer)
        timer.start()

    def fire_callback(self, kind: str, object_id: int) -> None:
        """POST the wrapped object to its callback URL once; a failure is not retried, and a
        redirect is not followed."""
        row = self.get_tune(object_id) if kind == "tune" else self.get_prompt(object_id)
        if row is None or not row["callback"]:
            return
        if self.state.take_fault("drop_callback", kind):
            log.info("sandbox dropped the %s %s callback, as asked", kind, object_id)
            return
        body = {kind: self.tune_json(row) if kind == "tune" else self.prompt_json(row)}
        try:
            response = self.http.post(row["callback"], json=body, timeout=10, allow_redirects=False)
            log.info("sandbox callback %s %s -> %s", kind, object_id, response.status_code)
        except requests.RequestException as exc:
            log.info(
                "sandbox callback %s %s failed (%s); Astria does not retry",
                kind,
                object_id,
                type(exc).__name__,
            )
