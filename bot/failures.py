"""When answering an update fails: someone always hears of it, and never twice.

telebot catches what a handler, a middleware or a filter raises and hands it to its exception
handler; anything else escapes `process_new_updates`. Both land in `Failures.failed`:
- Telegram refusing because the user left (403) or the moment passed (stale 400): logged, and
  nothing more (there is nobody to tell, nothing to fix);
- Telegram busy (429 on a call whose answer we needed): the user is asked to try again;
- anything else: logged with its traceback, the admins alerted (once per error signature), the
  user told something went wrong.
The webhook still answers 200: a 500 would make Telegram redeliver the update forever. The
exception is an update about money (a payment or a refund): recording it is safe to repeat, so
when it fails nobody is apologised to and the webhook asks Telegram to deliver it again.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

from telebot import ExceptionHandler, TeleBot
from telebot.types import Update

from bot.cashier import is_payment
from bot.outbox import refusal
from webapp.alerts import Alerts
from webapp.records import StoreError
from webapp.texts import Texts

log = logging.getLogger("bot")

current_update: ContextVar[Update | None] = ContextVar("current_update", default=None)
update_failed: ContextVar[bool] = ContextVar("update_failed", default=False)


def about_money(update: Update | None) -> bool:
    """A payment or a refund Telegram reports (recorded once per charge id, so safe to redo)."""
    return update is not None and is_payment(update.message)


class Failures(ExceptionHandler):
    """telebot's exception handler, and the webhook's last resort."""

    def __init__(self, bot: TeleBot, alerts: Alerts) -> None:
        self.bot = bot
        self.alerts = alerts

    def handle(self, exception: Exception) -> bool:
        """telebot caught this while running the current update: deal with it here."""
        self.failed(exception, current_update.get())
        return True

    def failed(self, exc: Exception, update: Update | None) -> None:
        """Log, alert and apologise as the module's docstring says."""
        update_id = update.update_id if update else "?"
        kind = refusal(exc)
        if kind in ("unreachable", "stale"):
            log.info("update=%s: telegram refused (%s); nothing more to do", update_id, kind)
            return
        update_failed.set(True)
        if kind == "flood":
            log.warning("update=%s: telegram is busy (429)", update_id)
            if not about_money(update):
                self._tell(update, "busy")
            return
        log.error("update=%s failed", update_id, exc_info=(type(exc), exc, exc.__traceback__))
        if isinstance(exc, StoreError):  # no message text in alerts: no user data
            self.alerts.critical("storage_unreachable", f"{type(exc).__name__} in an update", exc)
        else:
            self.alerts.critical("unhandled_error", f"{type(exc).__name__} in an update", exc)
        if not about_money(update):  # it comes again; the thank-you will follow then
            self._tell(update, "error")

    def _tell(self, update: Update | None, key: str) -> None:
        """Say `key` in the user's private chat, if the update came from one."""
        event = update and (update.message or update.callback_query)
        message = getattr(event, "message", event)  # a button press: the message it is on
        chat = getattr(message, "chat", None)
        sender = getattr(event, "from_user", None)
        if chat is None or sender is None or chat.type != "private" or type(chat.id) is not int:
            return
        try:
            self.bot.send_message(chat.id, Texts(sender.language_code)(key))
        except Exception as exc:
            log.warning("update=%s: could not tell the user (%s)", update.update_id, exc)
