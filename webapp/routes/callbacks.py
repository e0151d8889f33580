"""POST /api/astria/callback/<kind>/<id>?token=…: Astria says a tune or a prompt is finished.

The token is checked before the body is read; the body is at most 256 KB of JSON nested at most
16 deep (Astria's objects are a few KB and flat)."""

from __future__ import annotations

import json
import logging

from flask import Blueprint, jsonify, request

from webapp.records import BadRequest
from webapp.runtime import runtime

log = logging.getLogger("callbacks")
bp = Blueprint("astria_callbacks", __name__, url_prefix="/api/astria/callback")

MAX_BODY = 256 * 1024
MAX_DEPTH = 16


def read_json() -> object:
    """The request's JSON body, within the limits above; BadRequest otherwise."""
    request.max_content_length = MAX_BODY
    try:
        body = json.loads(request.get_data(cache=False))
    except (ValueError, RecursionError):
        raise BadRequest("The body is not JSON.") from None
    stack = [(body, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise BadRequest("The body is nested too deeply.")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return body


@bp.post("/tune/<row_id:model_id>")
def tune(model_id: int):
    """A tune (model) finished training, or failed."""
    outcome = runtime().services.callbacks.tune(model_id, request.args.get("token"), read_json)
    log.info("tune model=%s %s", model_id, outcome)
    return jsonify(ok=True, outcome=outcome)


@bp.post("/prompt/<row_id:generation_id>")
def prompt(generation_id: int):
    """A prompt (generation) finished, or failed."""
    callbacks = runtime().services.callbacks
    outcome = callbacks.prompt(generation_id, request.args.get("token"), read_json)
    log.info("prompt generation=%s %s", generation_id, outcome)
    return jsonify(ok=True, outcome=outcome)


@bp.post("/shoot/<row_id:shoot_id>")
def shoot(shoot_id: int):
    """One prompt of a photoshoot order finished, or failed."""
    shoots = runtime().services.shoots
    outcome = shoots.callback(shoot_id, request.args.get("token"), read_json)
    log.info("prompt shoot=%s %s", shoot_id, outcome)
    return jsonify(ok=True, outcome=outcome)
