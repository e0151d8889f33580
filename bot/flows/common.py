"""/start, /help, /credits, /models, /cancel — the commands that work from any step."""

from __future__ import annotations

from telebot import TeleBot
from telebot.states.sync.context import StateContext
from telebot.types import Message

from bot import keyboards
from bot.render import model_line
from bot.replies import send
from webapp.records import ModelStatus, User
from webapp.services import Services
from webapp.texts import Texts


def register(bot: TeleBot, services: Services) -> None:
    """Attach the handlers."""
    prices = services.accounts.prices
    app_url = services.settings.app_url

    @bot.message_handler(commands=["start"])
    def start(message: Message, user: User, t: Texts, state: StateContext) -> None:
        state.delete()
        name = f", {message.from_user.first_name}" if message.from_user.first_name else ""
        send(
            bot,
            message,
            t(
                "start",
                name=name,
                credits=t.credits(user.credits),
                train=t.credits(prices.train),
                generate=t.credits(prices.generate),
                images=t.images(prices.images_per_generation),
            ),
            reply_markup=keyboards.start_menu(t, app_url),
        )

    @bot.message_handler(commands=["help"])
    def help_(message: Message, t: Texts) -> None:
        send(bot, message, t("help"))

    @bot.message_handler(commands=["credits"])
    def credits(message: Message, user: User, t: Texts) -> None:
        send(
            bot,
            message,
            t(
                "credits",
                credits=t.credits(user.credits),
                train=t.credits(prices.train),
                generate=t.credits(prices.generate),
                images=t.images(prices.images_per_generation),
            ),
        )

    @bot.message_handler(commands=["models"])
    def models(message: Message, user: User, t: Texts) -> None:
        mine = services.training.models_of(user.telegram_id)
        if not mine:
            send(bot, message, t("no_models"))
            return
        lines = [t("models_header"), *(model_line(t, m) for m in mine)]
        ready = [m for m in mine if m.status == ModelStatus.READY]
        send(
            bot,
            message,
            "\n".join(lines),
            reply_markup=keyboards.models_overview(t, ready, app_url),
        )

    @bot.message_handler(commands=["cancel"])
    def cancel(message: Message, t: Texts, state: StateContext) -> None:
        send(bot, message, t("cancelled") if state.delete() else t("nothing_to_cancel"))


def register_fallbacks(bot: TeleBot, services: Services) -> None:
    """Whatever no flow took: a helpful answer, never silence."""

    @bot.message_handler(content_types=["text"])
    def unknown_text(message: Message, t: Texts) -> None:
        send(bot, message, t("unknown_text"))

    @bot.message_handler(
        content_types=[
            "photo",
            "document",
            "video",
            "sticker",
            "voice",
            "audio",
            "animation",
            "video_note",
            "location",
            "contact",
        ]
    )
    def unknown_media(message: Message, t: Texts) -> None:
        send(bot, message, t("unknown_media"))

    @bot.callback_query_handler(func=lambda call: True)
    def stale_button(call, t: Texts) -> None:
        bot.answer_callback_query(call.id, t("stale_button"))
