"""Updates no Telegram client sends: refused before telebot sees them, whose handlers take a
chat, a sender, text that is text and a payment's fields for granted (a forger holding the
webhook secret, or a broken proxy, could otherwise make a handler raise and page the admins)."""

from __future__ import annotations

MESSAGE_KINDS = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_message",
    "edited_business_message",
)
PAYMENT = {"currency": str, "total_amount": int, "invoice_payload": str}
CHARGE = {**PAYMENT, "telegram_payment_charge_id": str}


def shape_problem(payload: dict) -> str | None:
    """What makes this update one no Telegram client sends, or None: a message without an id,
    a date or a chat with an integer id, a sender without an id, text that is not text, a
    payment without its fields; a button press without its sender, data or message; a
    checkout question or a membership change without its sender or chat."""
    for kind in MESSAGE_KINDS:
        if kind in payload and (problem := _message_problem(payload[kind])):
            return f"{kind}: {problem}"
    if "callback_query" in payload and (problem := _press_problem(payload["callback_query"])):
        return f"callback_query: {problem}"
    if "pre_checkout_query" in payload:
        query = payload["pre_checkout_query"]
        if not isinstance(query, dict) or _wrong(query, {"id": str}):
            return "pre_checkout_query: not a checkout question"
        if not _has_id(query.get("from")) or _wrong(query, PAYMENT):
            return "pre_checkout_query: no sender, or a payment's fields missing"
    for kind in ("my_chat_member", "chat_member"):
        change = payload.get(kind)
        if kind in payload and not (
            isinstance(change, dict) and _has_id(change.get("chat")) and _has_id(change.get("from"))
        ):
            return f"{kind}: no chat or no sender"
    return None


def _press_problem(query) -> str | None:
    """What is wrong with a button press's shape, or None."""
    if not isinstance(query, dict) or not isinstance(query.get("id"), str):
        return "not a button press"
    if not _has_id(query.get("from")):
        return "no sender"
    if "data" in query and not isinstance(query["data"], str):
        return "data that is not text"
    if "message" not in query:  # the bot sends no inline messages, whose presses have none
        return "no message"
    problem = _message_problem(query["message"])
    return f"message: {problem}" if problem else None


def _message_problem(message) -> str | None:
    """What is wrong with a message's shape, or None."""
    if not isinstance(message, dict):
        return "not an object"
    if _wrong(message, {"message_id": int, "date": int}):
        return "no message_id or date"
    chat = message.get("chat")
    if not _has_id(chat) or not isinstance(chat.get("type"), str):
        return "no chat, or a chat without an id or a type"
    if "from" in message and not _has_id(message["from"]):
        return "a sender without an id"
    for field, kind in (("text", str), ("caption", str), ("business_connection_id", str)):
        if field in message and type(message[field]) is not kind:
            return f"a {field} that is not text"
    if "message_thread_id" in message and type(message["message_thread_id"]) is not int:
        return "a message_thread_id that is not a number"
    for field in ("successful_payment", "refunded_payment"):
        if field in message and (
            not isinstance(message[field], dict) or _wrong(message[field], CHARGE)
        ):
            return f"a {field} without its fields"
    return None


def _wrong(value: dict, fields: dict[str, type]) -> list[str]:
    """The fields of `value` missing or not of their type (a bool is no int here)."""
    return [name for name, kind in fields.items() if type(value.get(name)) is not kind]


def _has_id(value) -> bool:
    """An object with an integer id (a chat, a user)."""
    return isinstance(value, dict) and type(value.get("id")) is int
