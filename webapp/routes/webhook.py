"""POST /api/bot/webhook: Telegram's updates, checked, deduplicated and handed to the bot."""

from __future__ import annotations

import hmac
import logging

from flask import Blueprint, request
from telebot.types import Update

from webapp.errors import json_error
from webapp.runtime import runtime

log = logging.getLogger("webhook")
bp = Blueprint("webhook", __name__)


@bp.post("/api/bot/webhook")
def webhook():
    """Answer 200 fast; a redelivered update_id has no second effect."""
    rt = runtime()
    if rt.handle_update is None:
        return json_error(404, "not_configured", "No TELEGRAM_BOT_TOKEN is set (dev mode).")
    secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    expected = rt.settings.telegram_webhook_secret
    if not hmac.compare_digest(secret.encode(), expected.encode()):
        log.warning("refused: wrong or missing secret header")
        return json_error(401, "unauthorized", "Wrong or missing secret token.")
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
        return json_error(400, "bad_request", "Expected a Telegram update as JSON.")
    update_id = payload["update_id"]
    if not rt.store.claim_update(update_id):
        log.info("update=%s is a redelivery; skipped", update_id)
        return "", 200
    try:
        update = Update.de_json(payload)
    except Exception:
        log.warning("update=%s could not be parsed; skipped", update_id)
        return "", 200
    rt.handle_update(update)
    return "", 200
