"""The sandbox's HTTP API under /astria-sandbox, as Astria's: tunes, prompts, images and packs;
and, for the test suite only, POST /_faults to queue failures."""

from __future__ import annotations

import json
import time
from datetime import timedelta

from flask import Blueprint, Response, current_app, jsonify, request

from webapp.limits import limit
from webapp.sandbox import packs
from webapp.sandbox.render import render_placeholder
from webapp.sandbox.service import Sandbox
from webapp.settings import SANDBOX_PREFIX

SANDBOX = "3000/minute"  # a dev and test tool; this only stops a runaway loop
bp = limit(SANDBOX)(Blueprint("astria_sandbox", __name__, url_prefix=SANDBOX_PREFIX))
faults_bp = Blueprint("astria_sandbox_faults", __name__, url_prefix=SANDBOX_PREFIX)


def _sandbox() -> Sandbox:
    return current_app.extensions["astria_sandbox"]


@bp.before_request
def _authorise():
    """The app's own key or nothing (images are public by their signed path, as on S3)."""
    if request.endpoint in ("astria_sandbox.image", "astria_sandbox.pack_picture"):
        return None
    if not _sandbox().authorised(request.headers.get("Authorization", "")):
        return jsonify(error="Unauthorized"), 401
    path = request.path[len(SANDBOX_PREFIX) :]
    delay = _sandbox().state.take_fault("delay", request.method, path)
    if delay:  # Astria taking its time (the test suite's "slow upload")
        time.sleep(float(delay["body"] or 1))
    fault = _sandbox().state.take_fault("http", request.method, path)
    if fault:
        body = json.loads(fault["body"]) if fault["body"] else {"error": "sandbox fault"}
        return jsonify(body), fault["status"]
    return None


def _fields(root: str) -> tuple[dict, list[bytes]]:
    """Read `root[...]` fields from JSON or multipart/form, plus uploaded images."""
    if request.is_json:
        body = request.get_json(silent=True) or {}
        fields = body.get(root) if isinstance(body, dict) else None
        return (fields if isinstance(fields, dict) else {}), []
    fields: dict = {}
    prefix = f"{root}["
    for key in request.form:
        if key.startswith(prefix):
            name = key[len(prefix) :].split("]")[0]
            values = request.form.getlist(key)
            fields[name] = values if key.endswith("[]") else values[-1]
    images = [f.read() for f in request.files.getlist(f"{root}[images][]")]
    return fields, images


@bp.post("/tunes")
def create_tune():
    """POST /tunes."""
    body, status = _sandbox().create_tune(*_fields("tune"))
    return jsonify(body), status


@bp.post("/images/inspect")
def inspect_image():
    """POST /images/inspect (multipart `name` and `file`)."""
    upload = request.files.get("file")
    content = upload.read() if upload else b""
    body, status = _sandbox().inspect_image(request.form.get("name", ""), content)
    return jsonify(body), status


@bp.get("/tunes/<id64:tune_id>")
@bp.get("/tunes/<id64:tune_id>.json")
def get_tune(tune_id: int):
    """GET /tunes/:id."""
    row = _sandbox().get_tune(tune_id)
    if row is None:
        return jsonify(error="Not found"), 404
    return jsonify(_sandbox().tune_json(row))


@bp.delete("/tunes/<id64:tune_id>")
def delete_tune(tune_id: int):
    """DELETE /tunes/:id."""
    if not _sandbox().delete("tunes", tune_id):
        return jsonify(error="Not found"), 404
    return jsonify(message="Tune successfully deleted")


@bp.post("/tunes/<id64:tune_id>/prompts")
def create_prompt(tune_id: int):
    """POST /tunes/:id/prompts."""
    fields, _ = _fields("prompt")
    body, status = _sandbox().create_prompt(tune_id, fields)
    return jsonify(body), status


@bp.get("/tunes/<id64:tune_id>/prompts")
def list_prompts(tune_id: int):
    """GET /tunes/:tune_id/prompts: its prompts, newest first (`limit`, at most 120)."""
    limit = min(max(request.args.get("limit", 20, type=int), 1), 120)
    with _sandbox().state.db() as db:
        found = db.execute("SELECT * FROM prompts WHERE tune_id = ? AND deleted = 0 "
                           "ORDER BY id DESC LIMIT ?",
                           (tune_id, limit)).fetchall()  # fmt: skip
    return jsonify([_sandbox().prompt_json(row) for row in found])


@bp.get("/tunes/<id64:tune_id>/prompts/<id64:prompt_id>")
@bp.get("/prompts/<id64:prompt_id>")
def get_prompt(prompt_id: int, tune_id: int | None = None):
    """GET /tunes/:tune_id/prompts/:id."""
    row = _sandbox().get_prompt(prompt_id)
    if row is None or (tune_id is not None and row["tune_id"] != tune_id):
        return jsonify(error="Not found"), 404
    return jsonify(_sandbox().prompt_json(row))


@bp.post("/prompts/<id64:prompt_id>/likes")
def like_prompt(prompt_id: int):
    """POST /prompts/:id/likes: 201 with no body, as Astria answers."""
    if _sandbox().get_prompt(prompt_id) is None:
        return jsonify(error="Not found"), 404
    with _sandbox().state.db() as db:
        db.execute("INSERT INTO likes (prompt_id, created_at) VALUES (?, ?)",
                   (prompt_id, time.time()))  # fmt: skip
    return Response(status=201)


@bp.delete("/tunes/<id64:tune_id>/prompts/<id64:prompt_id>")
def delete_prompt(tune_id: int, prompt_id: int):
    """DELETE /tunes/:tune_id/prompts/:id."""
    row = _sandbox().get_prompt(prompt_id)
    if row is None or row["tune_id"] != tune_id:
        return jsonify(error="Not found"), 404
    _sandbox().delete("prompts", prompt_id)
    return jsonify(message="Prompt successfully deleted")


@bp.get("/images/<id64:prompt_id>/<signature>/<int:n>.jpg")
def image(prompt_id: int, signature: str, n: int):
    """A generated image: rendered on request, the same bytes every time."""
    sandbox = _sandbox()
    row = sandbox.get_prompt(prompt_id)
    if (
        row is None
        or not 0 <= n < row["num_images"]
        or time.time() < row["ready_at"]
        or not sandbox.image_signed(prompt_id, n, signature)
    ):
        return jsonify(error="Not found"), 404
    response = Response(render_placeholder(row["text"], n), mimetype="image/jpeg")
    response.cache_control.public = True
    response.cache_control.max_age = int(timedelta(days=30).total_seconds())
    return response


@bp.get("/gallery/packs")
def gallery_packs():
    """GET /gallery/packs: the public packs."""
    return jsonify([packs.listing_json(pack) for pack in packs.PACKS])


@bp.get("/packs")
def own_packs():
    """GET /packs: the account's own packs (the sandbox's account has none)."""
    return jsonify([])


@bp.get("/p/<id64:pack_id>")
def get_pack(pack_id: int):
    """GET /p/:id: a pack's cover, costs and sample pictures per class."""
    pack = packs.find(pack_id)
    if pack is None:
        return jsonify(error="Not found"), 404
    return jsonify(packs.pack_json(pack, _sandbox().base + "/images"))


@bp.post("/p/<id64:pack_id>/tunes")
def run_pack(pack_id: int):
    """POST /p/:id/tunes: the pack's prompts on existing tunes (`tune[tune_ids][]`)."""
    pack = packs.find(pack_id)
    if pack is None:
        return jsonify(error="Not found"), 404
    body, status = packs.run(_sandbox(), pack, _fields("tune")[0])
    return jsonify(body), status


@bp.get("/images/packs/<id64:pack_id>/<name>.jpg")
@bp.get("/images/packs/<id64:pack_id>/<name>/<int:n>.jpg")
def pack_picture(pack_id: int, name: str, n: int | None = None):
    """A pack's cover or sample picture: public, as on Astria's S3, the same bytes every time."""
    pack = packs.find(pack_id)
    text = pack and packs.picture_text(pack, name, n)
    if not text:
        return jsonify(error="Not found"), 404
    height = 640 if n is None else 512  # the cover is 4:5, a sample square
    picture = render_placeholder(text, n or 0, size=512, height=height)
    response = Response(picture, mimetype="image/jpeg")
    response.cache_control.public = True
    response.cache_control.max_age = int(timedelta(days=30).total_seconds())
    return response


@faults_bp.post("/_faults")
def queue_fault():
    """Tests only (ASTRIA_SANDBOX_FAULTS=1), with the app's key. Queue a failure:
    {"kind": "http", "method", "path" (a regex), "status", "body", "times"},
    {"kind": "delay", "method", "path", "body": seconds, "times"} or
    {"kind": "fail"|"drop_callback", "target": "tune"|"prompt", "body": error text, "times"} or
    {"kind": "no_ids", "target": "pack", "times"}: a pack run answers "Prompts created" without
    the prompts' ids, as Astria does for some packs."""
    if not _sandbox().authorised(request.headers.get("Authorization", "")):
        return jsonify(error="Unauthorized"), 401
    spec = request.get_json(silent=True) or {}
    kind = spec.get("kind")
    if kind not in {"http", "delay", "fail", "drop_callback", "no_ids"}:
        return jsonify(error="kind must be http, delay, fail, drop_callback or no_ids"), 422
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


@faults_bp.get("/_callbacks")
def pending_callbacks():
    """Tests only, with the app's key: how many callbacks this process has still to send (or
    is sending), {"pending": n}; 0 once everything Astria would call back about was answered."""
    if not _sandbox().authorised(request.headers.get("Authorization", "")):
        return jsonify(error="Unauthorized"), 401
    return jsonify(pending=_sandbox().pending())
