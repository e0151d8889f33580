"""👍 under a delivered picture or album: like one picture, or (tapped again) take it back; the
toast says which. The like goes to our store and on to Astria (webapp.services.likes)."""

from __future__ import annotations

from telebot import TeleBot
from telebot.types import CallbackQuery

from webapp.records import MAX_ROW_ID, NotFound, User, bounded_id
from webapp.services import Services
from webapp.texts import Texts


def register(bot: TeleBot, services: Services) -> None:
    """Attach the handler."""
    likes = services.likes

    @bot.callback_query_handler(func=lambda call: call.data.startswith("lk:"))
    def like(call: CallbackQuery, user: User, t: Texts) -> None:
        generation_id, _, image = call.data[3:].partition(":")
        generation_id = bounded_id(generation_id, MAX_ROW_ID) or 0
        n = int(image) if image.isdigit() and len(image) < 3 else -1
        try:
            generation, liked = likes.toggle(user.telegram_id, generation_id, n, t.lang)
        except NotFound:
            bot.answer_callback_query(call.id, t("like_gone"))
            return
        which = "" if len(generation.images) == 1 else f" {n + 1}"
        bot.answer_callback_query(call.id, t("liked" if liked else "unliked", which=which))
