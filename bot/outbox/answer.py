"""The webhook's answer: an update's replies, held until it is done, and the one Bot API call
its HTTP answer may carry instead of a request of our own."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextvars import ContextVar

from bot.outbox.calls import Call

# Calls that may ride in the webhook's own HTTP answer (Telegram makes them): their result is
# not needed (a placeholder does) and they carry no files.
ANSWERABLE = {"sendMessage", "editMessageText", "editMessageReplyMarkup", "answerCallbackQuery"}
# JSON-serialized parameters (strings for a request's form) that are objects in a JSON answer
JSON_PARAMS = {"reply_markup", "entities", "link_preview_options", "reply_parameters"}
ID_PARAMS = {"chat_id", "message_id", "message_thread_id"}


class WebhookAnswer:
    """An update's messages, held until the update is done (`Outbox.release`: a message of an
    update cut short never leaves, so handled again it is sent once), and the one Bot API call
    its webhook answer may carry instead of a request of our own (`carry`): the first message,
    held until a second call of the same update sends it first (keeping their order), or until
    the webhook answers with it."""

    def __init__(self, carry: bool = True, chat: int | None = None) -> None:
        self.call: Call | None = None
        self.open = carry  # no call was made yet: the first may be held
        # the update's chat: its messages there (and button answers) wait for `release`
        self.chat = chat
        self.held: list[Call] | None = [] if chat is not None else None

    def json(self) -> dict | None:
        """The held call as the webhook's answer: {"method": …, its parameters}."""
        if self.call is None:
            return None
        params = dict(self.call.params or {})
        for key in JSON_PARAMS & params.keys():
            if isinstance(params[key], str):
                params[key] = json.loads(params[key])
        for key in ID_PARAMS & params.keys():  # telebot sends ids as text; JSON has numbers
            if isinstance(params[key], str) and params[key].lstrip("-").isdigit():
                params[key] = int(params[key])
        return {"method": self.call.method, **params}


# Set for the update the webhook runs (bot.updates.Updates.handle): its answer may carry a call.
webhook_answer: ContextVar[WebhookAnswer | None] = ContextVar("webhook_answer", default=None)


def unheld(send: Callable) -> Callable:
    """`send` made outside the update being handled: its message leaves now, not with the
    update's (an admin's alert about this very update, which may never be finished)."""

    def outside(*args, **kwargs):
        token = webhook_answer.set(None)
        try:
            return send(*args, **kwargs)
        finally:
            webhook_answer.reset(token)

    return outside
