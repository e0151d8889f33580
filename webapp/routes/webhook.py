"""POST /api/bot/webhook: Telegram's updates, checked, deduplicated and handed to the bot."""

from __future__ import annotations

import hmac
import json
import logging
import math

from flask import Blueprint, jsonify, request

from webapp.errors import json_error
from webapp.routes.update_shapes import shape_problem
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
    """Answer 200 fast. An update is claimed for a lease, then done (webapp.services.leases): a
    redelivery of one that is done gets the answer it carried; of one a live process is still
    handling, that process's answer, or 503 after a few seconds; of one whose process died, it
    is handled again, with the effect of handling it once."""
    rt = runtime()
    if rt.chat is None:
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
    problem = shape_problem(payload)
    if problem is not None:  # telebot's handlers take a chat and a sender for granted
        log.info("update=%s refused: %s (no Telegram client sends that)", update_id, problem)
        return "", 200
    update = rt.chat.parse(payload)  # before the claim: a claimed update is always handled
    if update is None:
        log.warning("update=%s could not be parsed; skipped", update_id)
        return "", 200
    money = _about_money(payload)
    if not money:
        claim = rt.chat.claim(payload)
        if claim.busy:  # a live process is still at it: Telegram delivers it again later
            log.info("update=%s is still being handled elsewhere; answered 503", update_id)
            return json_error(503, "try_again", "This update is still being handled.")
        if not claim.claimed:  # done: what it answered (Telegram never got that answer)
            log.info("update=%s was handled before; skipped", update_id)
            return jsonify(claim.answer) if claim.answer is not None else ("", 200)
    handled = rt.chat.handle(update, claimed=not money)
    if not handled.finished:  # the store would not mark it done: handled again when delivered
        return json_error(503, "try_again", "Could not finish the update yet.")
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
