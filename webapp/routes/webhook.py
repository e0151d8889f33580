"""POST /api/bot/webhook: Telegram's updates, checked, deduplicated and handed to the bot."""

from __future__ import annotations

import hmac
import json
import logging
import math

from flask import Blueprint, jsonify, request
from telebot.types import Update

from webapp.errors import json_error
from webapp.runtime import runtime

log = logging.getLogger("webhook")
bp = Blueprint("webhook", __name__)

INT64 = 2**63
MAX_BODY = 1024 * 1024  # Telegram's updates are a few KB


def _int64(text: str) -> int:
    """json's integer parser, refusing what no Telegram id, date or size can be: past 64 bits."""
    value = int(text)
    if not -INT64 <= value < INT64:
        raise ValueError("an integer past 64 bits")
    return value


def _finite(text: str) -> float:
    """json's float parser, refusing what overflows to infinity (1e400)."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("a number past float range")
    return value


def _no_constants(name: str):
    raise ValueError(f"{name} is not JSON")


def _update_json() -> dict | None:
    """The body as a Telegram update (a JSON object with an integer update_id), or None."""
    request.max_content_length = MAX_BODY
    try:
        payload = json.loads(
            request.get_data(cache=False),
            parse_int=_int64,
            parse_float=_finite,
            parse_constant=_no_constants,
        )
    except (ValueError, RecursionError):  # also malformed UTF-8, ints past 64 bits, deep nesting
        return None
    if not isinstance(payload, dict) or type(payload.get("update_id")) is not int:
        return None
    return payload


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
    payload = _update_json()
    if payload is None:
        return json_error(400, "bad_request", "Expected a Telegram update as JSON.")
    update_id = payload["update_id"]
    problem = _shape_problem(payload)
    if problem is not None:  # telebot's handlers take a chat and a sender for granted
        log.info("update=%s refused: %s (no Telegram client sends that)", update_id, problem)
        return "", 200
    money = _about_money(payload)
    if not money and not rt.claim_update(payload):  # set with handle_update, by the bot
        log.info("update=%s is a redelivery; skipped", update_id)
        return "", 200
    try:
        update = Update.de_json(payload)
    except Exception:
        log.warning("update=%s could not be parsed; skipped", update_id)
        return "", 200
    handled = rt.handle_update(update, answerable=not money)
    if not handled.ok and money:
        # Telegram took or gave back Stars and we could not record it: deliver it again later
        # (recording is once per charge id, so a second delivery is safe)
        log.warning("update=%s about a payment failed; Telegram will deliver it again", update_id)
        return json_error(503, "try_again", "Could not record the payment yet.")
    if handled.answer is not None:  # one Bot API call, made by Telegram: a request saved
        return jsonify(handled.answer)
    return "", 200


def _about_money(payload: dict) -> bool:
    """A payment or a refund: never claimed up front, so a failure can be delivered again."""
    message = payload.get("message")
    return isinstance(message, dict) and (
        "successful_payment" in message or "refunded_payment" in message
    )


_MESSAGE_KINDS = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_message",
    "edited_business_message",
)


def _shape_problem(payload: dict) -> str | None:
    """What makes this update one no Telegram client sends (None: nothing): a message without
    an id, a date or a chat with an integer id, a sender without an id, a button press without
    its sender or its message."""
    for kind in _MESSAGE_KINDS:
        if kind in payload and (problem := _message_problem(payload[kind])):
            return f"{kind}: {problem}"
    if "callback_query" in payload:
        query = payload["callback_query"]
        if not isinstance(query, dict) or not isinstance(query.get("id"), str):
            return "callback_query: not a button press"
        if not _has_id(query.get("from")):
            return "callback_query: no sender"
        if "message" not in query:  # the bot sends no inline messages, whose presses have none
            return "callback_query: no message"
        if problem := _message_problem(query["message"]):
            return f"callback_query.message: {problem}"
    return None


def _message_problem(message) -> str | None:
    """What is wrong with a message's shape, or None."""
    if not isinstance(message, dict):
        return "not an object"
    if type(message.get("message_id")) is not int or type(message.get("date")) is not int:
        return "no message_id or date"
    chat = message.get("chat")
    if not _has_id(chat) or not isinstance(chat.get("type"), str):
        return "no chat, or a chat without an id or a type"
    if "from" in message and not _has_id(message["from"]):
        return "a sender without an id"
    return None


def _has_id(value) -> bool:
    """An object with an integer id (a chat, a user)."""
    return isinstance(value, dict) and type(value.get("id")) is int
