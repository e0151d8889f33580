"""POST /api/astria/callback/<kind>/<id>?token=…: Astria says a tune or a prompt is finished."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, request

from webapp.runtime import runtime

log = logging.getLogger("callbacks")
bp = Blueprint("astria_callbacks", __name__, url_prefix="/api/astria/callback")


@bp.post("/tune/<int:model_id>")
def tune(model_id: int):
    """A tune (model) finished training, or failed."""
    outcome = runtime().services.callbacks.tune(
        model_id, request.args.get("token"), request.get_json(silent=True)
    )
    log.info("tune model=%s %s", model_id, outcome)
    return jsonify(ok=True, outcome=outcome)


@bp.post("/prompt/<int:generation_id>")
def prompt(generation_id: int):
    """A prompt (generation) finished, or failed."""
    outcome = runtime().services.callbacks.prompt(
        generation_id, request.args.get("token"), request.get_json(silent=True)
    )
    log.info("prompt generation=%s %s", generation_id, outcome)
    return jsonify(ok=True, outcome=outcome)
